"""The usage ledger: one row per model call (tokens, cost, timing), summed per day for budgets.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usage_ledger",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("person", sa.String(32), nullable=True),
        sa.Column("room_id", sa.String(64), nullable=False, server_default="general"),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cached_input_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("reasoning_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("first_token_ms", sa.Integer, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False, server_default="0"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_usage_ledger_day_agent", "usage_ledger", ["day", "agent"])
    op.create_index("ix_usage_ledger_day_person", "usage_ledger", ["day", "person"])
    op.create_index("ix_usage_ledger_run", "usage_ledger", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_ledger_run", "usage_ledger")
    op.drop_index("ix_usage_ledger_day_person", "usage_ledger")
    op.drop_index("ix_usage_ledger_day_agent", "usage_ledger")
    op.drop_table("usage_ledger")
