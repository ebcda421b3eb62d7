"""Rooms, threads, edits, deletes, reactions and read positions.

Every existing message goes to ``general``.  Changes to a message are rows of their own
(``kind = 'update'``, ``target_id``) so they take ids from the message sequence.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy on SQLite: that would drop the full-text triggers and
    # AUTOINCREMENT of the messages table).
    op.add_column("messages", sa.Column("room_id", sa.String(64), nullable=False, server_default="general"))
    op.add_column("messages", sa.Column("thread_id", BigId, nullable=True))
    op.add_column("messages", sa.Column("reply_count", sa.Integer, nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("last_reply_at", TS, nullable=True))
    op.add_column("messages", sa.Column("edited_at", TS, nullable=True))
    op.add_column("messages", sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("messages", sa.Column("reactions", sa.JSON, nullable=False, server_default="{}"))
    op.add_column("messages", sa.Column("target_id", BigId, nullable=True))
    op.create_index("ix_messages_room_id", "messages", ["room_id", "id"])
    op.create_index("ix_messages_thread_id", "messages", ["thread_id", "id"])
    op.create_table(
        "rooms",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "room_members",
        sa.Column("room_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("agent_mode", sa.String(16), nullable=True),
        sa.Column("joined_at", TS, nullable=False),
    )
    op.create_index("ix_room_members_user", "room_members", ["user_id"])
    op.create_table(
        "read_positions",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("room_id", sa.String(64), primary_key=True),
        sa.Column("last_read_id", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("read_positions")
    op.drop_index("ix_room_members_user", "room_members")
    op.drop_table("room_members")
    op.drop_table("rooms")
    op.drop_index("ix_messages_thread_id", "messages")
    op.drop_index("ix_messages_room_id", "messages")
    for column in ("target_id", "reactions", "deleted", "edited_at", "last_reply_at", "reply_count",
                   "thread_id", "room_id"):
        op.drop_column("messages", column)
