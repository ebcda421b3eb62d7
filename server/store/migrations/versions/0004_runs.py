"""Agent runs and approvals: runs, their AG-UI events, approval requests and the audit log.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("room_id", sa.String(64), nullable=False, server_default="general"),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("reply_to", BigId, nullable=True),
        sa.Column("thread_id", BigId, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_table(
        "run_events",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "seq"),
    )
    op.create_table(
        "approvals",
        sa.Column("approval_id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("tool_call_id", sa.String(128), nullable=False),
        sa.Column("room_id", sa.String(64), nullable=False, server_default="general"),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("audience", sa.JSON, nullable=False),
        sa.Column("reply_to", BigId, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decisions", sa.JSON, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolved_by", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("run_id", "tool_call_id", name="uq_approvals_tool_call"),
    )
    op.create_index("ix_approvals_status", "approvals", ["status"])
    op.create_table(
        "approval_audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("approval_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("room_id", sa.String(64), nullable=False, server_default="general"),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_approval_audit_approval", "approval_audit", ["approval_id"])


def downgrade() -> None:
    op.drop_index("ix_approval_audit_approval", "approval_audit")
    op.drop_table("approval_audit")
    op.drop_index("ix_approvals_status", "approvals")
    op.drop_table("approvals")
    op.drop_table("run_events")
    op.drop_index("ix_runs_status", "runs")
    op.drop_table("runs")
