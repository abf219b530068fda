"""Leave room in `series` pages so the writer's last_ts/last_value updates stay HOT.

The metrics writer updates `series.last_ts/last_value` of every series in each batch it
commits. With full pages (fillfactor 100) those updates cannot stay on their page, so every one
inserts new entries into all three indexes of `series` and the unique-key check walks every
dead version: in `bench/bench_ingest.py` one 2,000-row update grew from 14 ms to 86 ms within
60 batches. With half-empty pages the updates are heap-only (no index work) and stay ~4 ms.
Existing rows move to roomier pages as they are updated; PostgreSQL only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE series SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE series RESET (fillfactor)")
