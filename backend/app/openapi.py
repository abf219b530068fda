"""Prints the OpenAPI schema (`python -m app.openapi`), for the frontend's generated client."""

from __future__ import annotations

import json
import sys
import tempfile

from app.core.config import get_settings
from app.main import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = get_settings(database_url=f"sqlite:///{tmp}/x.db", data_dir=tmp)
        app = create_app(settings)
        sys.stdout.write(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
