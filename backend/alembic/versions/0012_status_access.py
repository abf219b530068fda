"""Status page access and presentation: password, custom domain, embed origins, logo.

A page may ask visitors for a password (kept as an Argon2 hash), answer on its own host name,
be framed by listed origins, and show a logo (the image bytes themselves, at most 256 KB, so
the public API serves it without reaching anywhere else).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_pages") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=True))
        batch.add_column(sa.Column("custom_domain", sa.String(253), nullable=True))
        batch.add_column(
            sa.Column("embed_origins", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("logo_type", sa.String(32), nullable=True))
        batch.add_column(sa.Column("logo_hash", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_status_pages_custom_domain", ["custom_domain"])


def downgrade() -> None:
    with op.batch_alter_table("status_pages") as batch:
        batch.drop_constraint("uq_status_pages_custom_domain", type_="unique")
        for column in (
            "logo_hash",
            "logo_type",
            "logo",
            "embed_origins",
            "custom_domain",
            "password_hash",
        ):
            batch.drop_column(column)
