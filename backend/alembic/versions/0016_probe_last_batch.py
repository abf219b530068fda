"""The key of each probe's last accepted results batch, so a batch sent again is counted once.

A probe sends its spooled batches oldest first and keeps a batch until the hub answers 200. When
the answer is lost (the uplink breaks after the hub stored the batch), the probe sends the same
batch again; the hub answers it without storing it twice.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("probes") as batch:
        batch.add_column(sa.Column("last_batch", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("probes") as batch:
        batch.drop_column("last_batch")
