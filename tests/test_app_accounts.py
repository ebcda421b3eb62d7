"""Accounts on a real SQLite store: first admin, Argon2 passwords, session tokens, roles."""

from __future__ import annotations

import pytest

from agentchat_app.services import accounts, companion
from server.settings import Settings
from server.store import SqlStore


@pytest.fixture
async def store(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path, jwt_secret="k" * 40)
    monkeypatch.setattr(companion, "settings", lambda: settings)
    db = SqlStore(settings.resolved_database_url)
    await db.start()
    monkeypatch.setattr(companion._state, "store", db)
    yield db
    await db.close()


async def test_first_account_is_admin_then_developers(store):
    first = await accounts.sign_up("alice", "long enough pw")
    second = await accounts.sign_up("bob", "long enough pw")
    assert (first.role, second.role) == ("admin", "developer")
    user = await store.get_user("alice")
    assert user.password_hash.startswith("$argon2id$")


async def test_sign_in_checks_the_password_and_names(store):
    await accounts.sign_up("alice", "long enough pw")
    assert (await accounts.sign_in("alice", "long enough pw")).name == "alice"
    for name, password in (("alice", "wrong password"), ("nobody", "long enough pw"), ("../x", "pw")):
        with pytest.raises(accounts.AccountError, match="Invalid username or password"):
            await accounts.sign_in(name, password)


async def test_bad_sign_ups_say_why(store):
    await accounts.sign_up("alice", "long enough pw")
    for name, password, reason in (("alice", "long enough pw", "taken"), ("a b", "long enough pw", "username"),
                                   ("carol", "short", "at least 8")):
        with pytest.raises(accounts.AccountError, match=reason):
            await accounts.sign_up(name, password)


async def test_resume_follows_role_changes(store):
    admin = await accounts.sign_up("alice", "long enough pw")
    bob = await accounts.sign_up("bob", "long enough pw")
    assert (await accounts.resume(bob.token)).role == "developer"
    await accounts.change_role("alice", "bob", "viewer")
    resumed = await accounts.resume(bob.token)
    assert resumed.role == "viewer" and resumed.token != bob.token
    assert await accounts.resume("garbage") is None
    with pytest.raises(accounts.AccountError, match="Only admins"):
        await accounts.change_role("bob", "alice", "viewer")
    with pytest.raises(accounts.AccountError, match="only admin"):
        await accounts.change_role("alice", "alice", "developer")
    assert admin.role == "admin"
