"""`python -m app`: the Unity command line (serves by default)."""

from app.cli import main

main()
