"""Dirty roll-up buckets: late data gets rolled up.

A sample written for a time a roll-up tier has already passed adds its (tier, series, bucket)
here in the same transaction; the next storage maintenance pass rebuilds exactly those buckets.
Before this, history written behind a tier's mark never reached the 1 m and 1 h tables.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_dirty",
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tier", "series_id", "bucket", name="pk_rollup_dirty"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("rollup_dirty")
