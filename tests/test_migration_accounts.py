"""The ``0002_accounts`` migration on an existing database, SQLite and PostgreSQL.

Names that clash once case is ignored ("Ada" and "ada", from before names were unique that way)
must not stop the upgrade: the clash is logged with both names and both accounts keep working.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from server.accounts import AccountsConfig, AccountService
from server.accounts.passwords import hash_password
from server.accounts.sql import SqlAccountStore
from server.store.sql import SqlStore, make_engine
from server.store.sql.database import MIGRATIONS

PW = "long enough pw"


def upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


async def test_clashing_names_are_reported_and_keep_working(db_url, caplog):
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    hashed = await hash_password(PW)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    users = sa.table("users", sa.column("name"), sa.column("password_hash"), sa.column("role"),
                     sa.column("is_agent"), sa.column("created_at"))
    with engine.begin() as connection:
        connection.execute(users.insert(), [
            {"name": "Ada", "password_hash": hashed, "role": "admin", "is_agent": False, "created_at": start},
            {"name": "ada", "password_hash": hashed, "role": "developer", "is_agent": False,
             "created_at": start + timedelta(days=1)},
            {"name": "bob", "password_hash": hashed, "role": "viewer", "is_agent": False, "created_at": start},
        ])
    engine.dispose()

    with caplog.at_level(logging.WARNING, logger="server.store.migrations"):
        store = SqlStore(db_url)
        await store.start()  # migrates to head
    try:
        clash = [r.getMessage() for r in caplog.records if r.name == "server.store.migrations"]
        assert len(clash) == 1 and "'Ada'" in clash[0] and "'ada'" in clash[0]
        keys = await store.db.read(lambda s: dict(s.execute(sa.text("SELECT name, name_key FROM users")).all()))
        assert keys == {"Ada": "ada", "ada": "ada~2", "bob": "bob"}

        service = AccountService(SqlAccountStore(store), AccountsConfig(secret="s" * 40))
        assert (await service.sign_in("Ada", PW)).account.name == "Ada"
        assert (await service.sign_in("ada", PW)).account.name == "ada"  # the exact name still finds the later one
        assert (await service.sign_in("BOB", PW)).account.role == "viewer"
        new = await service.sign_up("Carol", PW)
        assert new.account.role == "developer"
        for taken in ("carol", "ADA", "Bob"):
            try:
                await service.sign_up(taken, PW)
            except Exception as exc:
                assert "taken" in str(exc)
            else:
                raise AssertionError(f"{taken} was accepted")
    finally:
        await store.close()


async def test_a_fresh_database_migrates_and_keeps_names_unique(db_url):
    store = SqlStore(db_url)
    await store.start()
    try:
        await store.create_user("Zed", None, "developer")
        try:
            await store.create_user("zed", None, "developer")
        except Exception:
            pass
        else:
            raise AssertionError("a case-insensitive duplicate was stored")
        row = await store.db.read(lambda s: s.execute(sa.text("SELECT name_key, disabled FROM users WHERE name = 'Zed'")).one())
        assert row[0] == "zed" and not row[1]
    finally:
        await store.close()
