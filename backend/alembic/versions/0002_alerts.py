"""Alerts: rules, per-series state, incidents, silences, notification channels and deliveries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _fk(column: str, table: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        target, ondelete=ondelete, name=f"fk_{table}_{column}_{target.split('.')[0]}"
    )


def upgrade() -> None:
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("send_resolved", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("name", name="uq_notification_channels_name"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "plugin_id", sa.Integer(), _fk("plugin_id", "alert_rules", "plugins.id", "CASCADE")
        ),
        sa.Column("metric", sa.String(200)),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("op", sa.String(2), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("for_seconds", sa.Integer(), nullable=False),
        sa.Column("keep_firing_seconds", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("name", name="uq_alert_rules_name"),
    )
    op.create_index("ix_alert_rules_plugin_id", "alert_rules", ["plugin_id"])
    op.create_table(
        "alert_rule_channels",
        sa.Column(
            "rule_id",
            sa.Integer(),
            _fk("rule_id", "alert_rule_channels", "alert_rules.id", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "channel_id",
            sa.Integer(),
            _fk("channel_id", "alert_rule_channels", "notification_channels.id", "CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("rule_id", "channel_id", name="pk_alert_rule_channels"),
    )
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "rule_id", sa.Integer(), _fk("rule_id", "alert_incidents", "alert_rules.id", "SET NULL")
        ),
        sa.Column("rule_name", sa.String(100), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("plugin_id", sa.Integer()),
        sa.Column("plugin_name", sa.String(100)),
        sa.Column("series_id", sa.Integer()),
        sa.Column("metric", sa.String(200)),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("fired_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("value", sa.Float()),
        sa.Column("last_value", sa.Float()),
        sa.Column("resolved_value", sa.Float()),
        sa.Column("resolved_reason", sa.String(200)),
        sa.Column("silenced", sa.Boolean(), nullable=False),
        sa.Column("silence_id", sa.Integer()),
        sa.Column("notified", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_alert_incidents_rule_id", "alert_incidents", ["rule_id"])
    op.create_index("ix_alert_incidents_plugin_id", "alert_incidents", ["plugin_id"])
    op.create_index("ix_alert_incidents_fired_at", "alert_incidents", ["fired_at"])
    op.create_index("ix_alert_incidents_status_fired", "alert_incidents", ["status", "fired_at"])
    op.create_table(
        "alert_states",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "rule_id",
            sa.Integer(),
            _fk("rule_id", "alert_states", "alert_rules.id", "CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("plugin_id", sa.Integer()),
        sa.Column("series_id", sa.Integer()),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("active_since", TS),
        sa.Column("firing_since", TS),
        sa.Column("clear_since", TS),
        sa.Column("resolved_at", TS),
        sa.Column("value", sa.Float()),
        sa.Column("evaluated_at", TS),
        sa.Column(
            "incident_id",
            sa.Integer(),
            _fk("incident_id", "alert_states", "alert_incidents.id", "SET NULL"),
        ),
        sa.UniqueConstraint("rule_id", "key", name="uq_alert_states_rule_key"),
    )
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "plugin_id", sa.Integer(), _fk("plugin_id", "alert_silences", "plugins.id", "CASCADE")
        ),
        sa.Column(
            "rule_id", sa.Integer(), _fk("rule_id", "alert_silences", "alert_rules.id", "CASCADE")
        ),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_alert_silences_plugin_id", "alert_silences", ["plugin_id"])
    op.create_index("ix_alert_silences_ends_at", "alert_silences", ["ends_at"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "channel_id",
            sa.Integer(),
            _fk("channel_id", "notification_deliveries", "notification_channels.id", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "incident_id",
            sa.Integer(),
            _fk("incident_id", "notification_deliveries", "alert_incidents.id", "CASCADE"),
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("notify_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
    )
    op.create_index(
        "ix_notification_deliveries_channel_id", "notification_deliveries", ["channel_id"]
    )
    op.create_index(
        "ix_notification_deliveries_incident_id", "notification_deliveries", ["incident_id"]
    )
    op.create_index(
        "ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    for table in (
        "notification_deliveries",
        "alert_silences",
        "alert_states",
        "alert_incidents",
        "alert_rule_channels",
        "alert_rules",
        "notification_channels",
    ):
        op.drop_table(table)
