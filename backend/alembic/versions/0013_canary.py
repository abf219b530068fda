"""Grouped and quiet notifications per channel, and the connectivity canary.

Channels get a group window (NULL: NOTIFY_GROUP_SECONDS) and quiet hours; a delivery keeps the
severity it was queued with and why it is held; an incident says whether it fired while Unity's
own network was down; `canary_outages` records when the connectivity canary was down (uptime
counts that time as unknown).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("notification_channels") as batch:
        batch.add_column(sa.Column("group_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quiet_start", sa.String(5), nullable=True))
        batch.add_column(sa.Column("quiet_end", sa.String(5), nullable=True))
        batch.add_column(
            sa.Column("quiet_timezone", sa.String(64), nullable=False, server_default="UTC")
        )
        batch.add_column(
            sa.Column(
                "quiet_except_critical", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.add_column(sa.Column("severity", sa.String(16), nullable=True))
        batch.add_column(sa.Column("held", sa.String(16), nullable=True))
    with op.batch_alter_table("alert_incidents") as batch:
        batch.add_column(
            sa.Column("network_down", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "canary_outages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("announced", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_canary_outages_started_at", "canary_outages", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_canary_outages_started_at", table_name="canary_outages")
    op.drop_table("canary_outages")
    with op.batch_alter_table("alert_incidents") as batch:
        batch.drop_column("network_down")
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.drop_column("held")
        batch.drop_column("severity")
    with op.batch_alter_table("notification_channels") as batch:
        for column in (
            "quiet_except_critical",
            "quiet_timezone",
            "quiet_end",
            "quiet_start",
            "group_seconds",
        ):
            batch.drop_column(column)
