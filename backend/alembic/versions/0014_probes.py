"""Remote probes: plugin locations, probe-scoped API tokens, probe check-ins, per-location health.

A plugin runs at the hub unless `locations` names others (probes at a second site); its health
is then "down" when at least `down_quorum` (K) of its N locations see it down. A probe token is
an API token with scope "probe" and a location: it can read that location's assignments and
write results, nothing else.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plugins") as batch:
        batch.add_column(sa.Column("locations", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("down_quorum", sa.Integer(), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=True))
        batch.add_column(sa.Column("location", sa.String(64), nullable=True))
    op.create_table(
        "probes",
        sa.Column("location", sa.String(64), primary_key=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_seconds", sa.Integer(), nullable=False, server_default="10"),
        sa.Column("version", sa.String(64), nullable=False, server_default=""),
        sa.Column("spooled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("dropped_total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("results_total", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "plugin_locations",
        sa.Column(
            "plugin_id",
            sa.Integer(),
            sa.ForeignKey("plugins.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("location", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="unknown"),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("sample_count", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("plugin_locations")
    op.drop_table("probes")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("location")
        batch.drop_column("scope")
    with op.batch_alter_table("plugins") as batch:
        batch.drop_column("down_quorum")
        batch.drop_column("locations")
