"""Accounts: case-insensitive unique names, disabled flag, sessions, agent keys, invites,
password resets and sign-in attempts.

Existing names that are equal once case and Unicode width are ignored ("Ada" and "ada") keep
working: the older account gets the plain key, each later one ``key~N`` (``~`` is not allowed
in names, so no new account can take it), and the clash is logged with both names so an admin
can rename one.

Revision ID: 0002
Revises: 0001
"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
log = logging.getLogger("server.store.migrations")


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("name_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))

    bind = op.get_bind()
    users = sa.table("users", sa.column("name", sa.String), sa.column("name_key", sa.String),
                     sa.column("created_at", TS))
    rows = bind.execute(sa.select(users.c.name).order_by(users.c.created_at, users.c.name)).all()
    owners: dict[str, str] = {}
    for (name,) in rows:
        key = _key(name)
        if key in owners:
            suffix = 2
            while f"{key}~{suffix}" in owners:
                suffix += 1
            log.warning(
                "accounts %r and %r have the same name when case is ignored; both keep working, but only %r "
                "can be found case-insensitively: rename one of them", owners[key], name, owners[key],
            )
            key = f"{key}~{suffix}"
        owners[key] = name
        bind.execute(users.update().where(users.c.name == name).values(name_key=key))
    op.create_index("ix_users_name_key", "users", ["name_key"], unique=True)

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(32), nullable=False, index=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "agent_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("agent", sa.String(32), nullable=False, index=True),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_by", sa.String(32), nullable=True),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "signin_attempts",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TS, nullable=True),
        sa.Column("blocked_until", TS, nullable=True),
    )


def downgrade() -> None:
    for table in ("signin_attempts", "password_resets", "invites", "agent_keys", "auth_sessions"):
        op.drop_table(table)
    op.drop_index("ix_users_name_key", "users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled")
        batch.drop_column("name_key")
