"""Plugin dependencies, suppressed and acknowledged incidents, incident timelines, repeats.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
INCIDENT_COLUMNS = (
    ("suppressed_by_id", sa.Integer()),
    ("suppressed_by", sa.String(100)),
    ("last_notified_at", TS),
    ("acknowledged_at", TS),
    ("acknowledged_by", sa.String(64)),
    ("ack_comment", sa.Text()),
)


def _fk(column: str, table: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        target, ondelete="CASCADE", name=f"fk_{table}_{column}_{target.split('.')[0]}"
    )


def upgrade() -> None:
    op.create_table(
        "plugin_dependencies",
        sa.Column(
            "plugin_id",
            sa.Integer(),
            _fk("plugin_id", "plugin_dependencies", "plugins.id"),
            nullable=False,
        ),
        sa.Column(
            "parent_id",
            sa.Integer(),
            _fk("parent_id", "plugin_dependencies", "plugins.id"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("plugin_id", "parent_id", name="pk_plugin_dependencies"),
    )
    op.create_index("ix_plugin_dependencies_parent_id", "plugin_dependencies", ["parent_id"])
    op.create_table(
        "alert_incident_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.Integer(),
            _fk("incident_id", "alert_incident_events", "alert_incidents.id"),
            nullable=False,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_alert_incident_events_incident_id", "alert_incident_events", ["incident_id"]
    )
    with op.batch_alter_table("alert_incidents") as batch:
        for name, type_ in INCIDENT_COLUMNS:
            batch.add_column(sa.Column(name, type_))
        batch.create_index("ix_alert_incidents_suppressed_by_id", ["suppressed_by_id"])
    with op.batch_alter_table("alert_rules") as batch:
        batch.add_column(
            sa.Column("repeat_seconds", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_rules") as batch:
        batch.drop_column("repeat_seconds")
    with op.batch_alter_table("alert_incidents") as batch:
        batch.drop_index("ix_alert_incidents_suppressed_by_id")
        for name, _ in INCIDENT_COLUMNS:
            batch.drop_column(name)
    op.drop_index("ix_alert_incident_events_incident_id", table_name="alert_incident_events")
    op.drop_table("alert_incident_events")
    op.drop_index("ix_plugin_dependencies_parent_id", table_name="plugin_dependencies")
    op.drop_table("plugin_dependencies")
