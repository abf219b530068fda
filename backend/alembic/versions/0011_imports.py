"""History imports: resume points of file imports, and plugins made from other tools' objects.

`python -m app import openmetrics` commits its position in the file with every chunk it
writes, so an interrupted import resumes there; `python -m app import kuma` remembers which
plugin each Uptime Kuma monitor became and its last imported heartbeat, so re-running adds
only what is new.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "import_checkpoints",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("line", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("samples", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_import_checkpoints"),
    )
    op.create_table(
        "import_links",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column(
            "plugin_id",
            sa.Integer(),
            sa.ForeignKey(
                "plugins.id", ondelete="CASCADE", name="fk_import_links_plugin_id_plugins"
            ),
            nullable=False,
        ),
        sa.Column("position", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_import_links"),
    )
    op.create_index("ix_import_links_plugin_id", "import_links", ["plugin_id"])


def downgrade() -> None:
    op.drop_index("ix_import_links_plugin_id", table_name="import_links")
    op.drop_table("import_links")
    op.drop_table("import_checkpoints")
