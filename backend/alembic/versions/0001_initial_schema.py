"""Initial schema: users, API tokens, plugins, runs, health, series, samples and roll-ups.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

On PostgreSQL `samples` is range-partitioned by day on `ts`; the app creates partitions ahead of
time and drops whole partitions past retention. On SQLite it is a plain WITHOUT ROWID table.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
SERIES_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_api_tokens_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS),
        sa.Column("expires_at", TS),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "plugins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text()),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("name", name="uq_plugins_name"),
    )
    op.create_index("ix_plugins_type", "plugins", ["type"])

    plugin_fk = {"ondelete": "CASCADE"}
    op.create_table(
        "plugin_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "plugin_id",
            sa.Integer(),
            sa.ForeignKey("plugins.id", name="fk_plugin_runs_plugin_id_plugins", **plugin_fk),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("duration_ms", sa.Double()),
        sa.Column("error", sa.Text()),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("lateness_ms", sa.Double()),
    )
    op.create_index("ix_plugin_runs_plugin_started", "plugin_runs", ["plugin_id", "started_at"])
    op.create_index("ix_plugin_runs_started_at", "plugin_runs", ["started_at"])

    op.create_table(
        "plugin_health",
        sa.Column(
            "plugin_id",
            sa.Integer(),
            sa.ForeignKey("plugins.id", name="fk_plugin_health_plugin_id_plugins", **plugin_fk),
            primary_key=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_run_at", TS),
        sa.Column("last_success_at", TS),
        sa.Column("last_error", sa.Text()),
        sa.Column("changed_at", TS),
    )

    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "plugin_id",
            sa.Integer(),
            sa.ForeignKey("plugins.id", name="fk_series_plugin_id_plugins", **plugin_fk),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("labels_key", sa.String(1000), nullable=False),
        sa.Column("last_ts", TS),
        sa.Column("last_value", sa.Float()),
        sa.UniqueConstraint("plugin_id", "name", "labels_key", name="uq_series_identity"),
    )
    op.create_index("ix_series_plugin_id", "series", ["plugin_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE samples ("
            " series_id bigint NOT NULL,"
            " ts timestamptz NOT NULL,"
            " value double precision NOT NULL,"
            " CONSTRAINT pk_samples PRIMARY KEY (series_id, ts)"
            ") PARTITION BY RANGE (ts)"
        )
    else:
        op.create_table(
            "samples",
            sa.Column("series_id", SERIES_ID, nullable=False),
            sa.Column("ts", TS, nullable=False),
            sa.Column("value", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("series_id", "ts", name="pk_samples"),
            sqlite_with_rowid=False,
        )
    for table in ("samples_1m", "samples_1h"):
        op.create_table(
            table,
            sa.Column("series_id", SERIES_ID, nullable=False),
            sa.Column("ts", TS, nullable=False),
            sa.Column("vmin", sa.Float(), nullable=False),
            sa.Column("vmax", sa.Float(), nullable=False),
            sa.Column("vsum", sa.Float(), nullable=False),
            sa.Column("vcount", sa.Integer(), nullable=False),
            sa.Column("vlast", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("series_id", "ts", name=f"pk_{table}"),
            sqlite_with_rowid=False,
        )

    op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("done_until", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "rollup_state",
        "samples_1h",
        "samples_1m",
        "samples",
        "series",
        "plugin_health",
        "plugin_runs",
        "plugins",
        "api_tokens",
        "users",
    ):
        op.drop_table(table)
