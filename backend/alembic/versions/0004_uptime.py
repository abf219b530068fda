"""Uptime: push (heartbeat) monitors, hourly and daily state roll-ups, their cursor, maintenance.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _plugin_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("plugins.id", ondelete="CASCADE", name=f"fk_{table}_plugin_id_plugins")


KINDS = ("up_s", "down_s", "maintenance_s", "unknown_s")


def _durations(prefix: str = "") -> list[sa.Column[float]]:
    return [
        sa.Column(prefix + name, sa.Float(), nullable=False, server_default="0") for name in KINDS
    ]


def upgrade() -> None:
    op.create_table(
        "push_monitors",
        sa.Column("plugin_id", sa.Integer(), _plugin_fk("push_monitors"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("last_push_at", TS),
        sa.Column("last_status", sa.String(8)),
        sa.Column("last_msg", sa.String(500)),
        sa.Column("last_ping_ms", sa.Float()),
        sa.Column("push_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("rotated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("plugin_id", name="pk_push_monitors"),
        sa.UniqueConstraint("token_hash", name="uq_push_monitors_token_hash"),
    )
    op.create_table(
        "uptime_hourly",
        sa.Column("plugin_id", sa.Integer(), _plugin_fk("uptime_hourly"), nullable=False),
        sa.Column("hour", TS, nullable=False),
        *_durations(),
        sa.PrimaryKeyConstraint("plugin_id", "hour", name="pk_uptime_hourly"),
    )
    op.create_table(
        "uptime_daily",
        sa.Column("plugin_id", sa.Integer(), _plugin_fk("uptime_daily"), nullable=False),
        sa.Column("day", TS, nullable=False),
        *_durations(),
        # Running totals since the plugin's first day: any window is two rows' difference.
        *_durations("cum_"),
        sa.PrimaryKeyConstraint("plugin_id", "day", name="pk_uptime_daily"),
    )
    # Cross-plugin reads ("all plugins over 365 days") fetch two days' rows.
    op.create_index("ix_uptime_daily_day", "uptime_daily", ["day"])
    op.create_table(
        "uptime_cursors",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("position", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_uptime_cursors"),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("start_time", sa.String(5)),
        sa.Column("duration_seconds", sa.Integer()),
        sa.Column("cron", sa.String(100)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("all_plugins", sa.Boolean(), nullable=False),
        sa.Column("plugin_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_maintenance_windows_ends_at", "maintenance_windows", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_ends_at", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_table("uptime_cursors")
    op.drop_index("ix_uptime_daily_day", table_name="uptime_daily")
    op.drop_table("uptime_daily")
    op.drop_table("uptime_hourly")
    op.drop_table("push_monitors")
