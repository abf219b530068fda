"""Prints the OpenAPI schema (`python -m app.openapi`), for the frontend's generated client."""

from __future__ import annotations

import json
import secrets
import sys
import tempfile

from cryptography.fernet import Fernet

from app.core.config import get_settings
from app.main import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = get_settings(
            database_url=f"sqlite:///{tmp}/x.db",
            data_dir=tmp,
            encryption_key=Fernet.generate_key().decode(),
            jwt_secret_key=secrets.token_urlsafe(48),
        )
        app = create_app(settings)
        sys.stdout.write(json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
