"""The accounts service's rules, with the memory store and a fake clock (no database, no sockets)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from agentchat_client.protocol import Role

from server.accounts import AccountChange, AccountsConfig, AccountService, ChangeKind, SignupPolicy
from server.accounts.errors import (
    AccountDisabled,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    SessionEnded,
    Throttled,
    Unauthorized,
)
from server.accounts.memory import MemoryAccountStore
from server.core.names import name_key, normalise_name
from server.accounts.throttle import NAME_POLICY, Attempts, ThrottlePolicy, record_failure, wait_seconds
from server.auth import Identity, issue_token

SECRET = "unit-secret-0123456789abcdef0123456789abcdef"
PW = "long enough pw"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(clock: Clock, **config) -> tuple[AccountService, list[AccountChange]]:
    service = AccountService(MemoryAccountStore(), AccountsConfig(secret=SECRET, **config), clock=clock,
                             agent_names=lambda: ["reviewer"])
    changes: list[AccountChange] = []
    service.subscribe(changes.append)
    return service, changes


def test_names_normalise_to_one_case_insensitive_key():
    assert normalise_name("  Ada ") == "Ada"
    assert normalise_name("ａｄａ") == "ada"  # full-width letters are the same name
    assert name_key("Ada") == name_key("ADA") == name_key("ａｄａ") == "ada"
    for bad in ("a b", "-lead", "x" * 33, "é", "", "../x"):
        assert normalise_name(bad) is None


def test_throttle_schedule_doubles_after_the_free_tries_and_is_forgotten():
    policy = ThrottlePolicy(free=3, base=1.0, cap=10.0, forget_after=60)
    assert [policy.delay(n) for n in range(1, 9)] == [0, 0, 0, 1, 2, 4, 8, 10]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    record = Attempts("name:ada")
    for _ in range(4):
        record = record_failure(record, policy, now)
    assert wait_seconds(record, policy, now) == 1.0
    assert wait_seconds(record, policy, now + timedelta(seconds=0.5)) == 0.5
    assert wait_seconds(record, policy, now + timedelta(seconds=61)) == 0.0  # a quiet hour forgives
    assert record_failure(record, policy, now + timedelta(seconds=61)).failures == 1


async def test_first_person_is_admin_names_are_unique_and_reserved(clock):
    service, _ = make(clock)
    first = await service.sign_up("Ada", PW)
    second = await service.sign_up("bob", PW)
    assert (first.account.role, second.account.role) == ("admin", "developer")
    for name in ("ada", "ADA", "ａｄａ", "helper", "Files", "reviewer"):
        with pytest.raises(Conflict, match="taken"):
            await service.sign_up(name, PW)
    with pytest.raises(InvalidInput, match="letters, digits"):
        await service.sign_up("a b", PW)
    with pytest.raises(InvalidInput, match="at least 8"):
        await service.sign_up("carol", "short")


async def test_sign_in_is_case_insensitive_and_throttled(clock):
    service, _ = make(clock)
    await service.sign_up("Ada", PW)
    assert (await service.sign_in("ada", PW)).account.name == "Ada"
    for _ in range(NAME_POLICY.free):
        with pytest.raises(Unauthorized, match="Invalid username or password"):
            await service.sign_in("ada", "wrong password", address="10.0.0.1")
    with pytest.raises(Unauthorized):
        await service.sign_in("ada", "wrong password", address="10.0.0.1")  # the 6th failure starts a wait
    with pytest.raises(Throttled, match=r"Too many attempts; try again in 1 s") as info:
        await service.sign_in("ada", PW, address="10.0.0.2")  # even the right password waits
    assert info.value.retry_after == pytest.approx(1.0)
    clock.advance(1.1)
    assert (await service.sign_in("ada", PW)).account.name == "Ada"  # success clears the name's counter
    with pytest.raises(Unauthorized):
        await service.sign_in("ada", "wrong password")


async def test_sessions_refresh_and_end_on_sign_out(clock):
    service, changes = make(clock, access_ttl=timedelta(minutes=15))
    signed = await service.sign_up("ada", PW)
    identity = await service.authenticate(signed.token, "ada")
    assert identity == Identity("ada", Role.ADMIN, session_id=signed.session_id)
    clock.advance(16 * 60)
    with pytest.raises(Unauthorized, match="expired"):
        await service.authenticate(signed.token)
    renewed = await service.refresh(signed.refresh_token)
    assert (await service.authenticate(renewed.token)).session_id == signed.session_id
    with pytest.raises(Unauthorized):
        await service.refresh(signed.refresh_token[:-2] + "xx")  # a forged secret
    await service.sign_out(refresh_token=signed.refresh_token)
    with pytest.raises(SessionEnded):
        await service.authenticate(renewed.token)
    with pytest.raises(SessionEnded):
        await service.refresh(signed.refresh_token)
    assert changes[-1].kind is ChangeKind.SESSION_REVOKED and changes[-1].user_id == "ada"


async def test_sign_out_everywhere_ends_every_session(clock):
    service, _ = make(clock)
    one = await service.sign_up("ada", PW)
    two = await service.sign_in("ada", PW)
    assert await service.sign_out_everywhere(await service.authenticate(two.token)) == 2
    for signed in (one, two):
        with pytest.raises(SessionEnded):
            await service.authenticate(signed.token)


async def test_sessions_expire(clock):
    service, _ = make(clock, session_ttl=timedelta(hours=1))
    signed = await service.sign_up("ada", PW)
    clock.advance(3601)
    with pytest.raises(SessionEnded):
        await service.refresh(signed.refresh_token)


async def test_dev_tokens_create_accounts_but_the_stored_role_wins(clock):
    service, _ = make(clock)
    created = await service.authenticate(issue_token(SECRET, "bot", "agent"), "bot")
    assert created.role is Role.AGENT
    await service.sign_up("ada", PW)  # the first *person* still becomes admin
    bob = await service.authenticate(issue_token(SECRET, "bob", "viewer"), "bob")
    assert bob.role is Role.VIEWER
    again = await service.authenticate(issue_token(SECRET, "bob", "admin"), "bob")
    assert again.role is Role.VIEWER  # a token cannot promote its holder
    with pytest.raises(Unauthorized, match="another account"):
        await service.authenticate(issue_token(SECRET, "ADA", "admin"), "ADA")
    with pytest.raises(Unauthorized, match="belong"):
        await service.authenticate(issue_token(SECRET, "bob", "viewer"), "ada")


async def test_admin_changes_roles_and_access_and_announces_them(clock):
    service, changes = make(clock)
    ada = await service.authenticate((await service.sign_up("ada", PW)).token)
    bob_signed = await service.sign_up("bob", PW)
    bob = await service.authenticate(bob_signed.token)
    with pytest.raises(Forbidden, match="Only admins"):
        await service.change_role(bob, "ada", "viewer")
    await service.change_role(ada, "bob", "viewer")
    assert changes[-1] == AccountChange("bob", "viewer", False, ChangeKind.ROLE_CHANGED)
    assert (await service.recheck(bob)).role is Role.VIEWER
    with pytest.raises(Conflict, match="only admin"):
        await service.change_role(ada, "ada", "developer")
    with pytest.raises(Conflict, match="own account"):
        await service.set_disabled(ada, "ada", True)
    with pytest.raises(NotFound):
        await service.change_role(ada, "nobody", "viewer")
    await service.set_disabled(ada, "bob", True)
    assert changes[-1].kind is ChangeKind.DISABLED and changes[-1].disabled
    with pytest.raises(AccountDisabled):
        await service.authenticate(bob_signed.token)
    with pytest.raises(AccountDisabled, match="disabled"):
        await service.sign_in("bob", PW)
    await service.set_disabled(ada, "bob", False)
    assert (await service.sign_in("bob", PW)).account.role == "viewer"
    people = await service.list_people(ada)
    assert [(p.name, p.role, p.last_seen is not None) for p in people] == [("ada", "admin", True),
                                                                           ("bob", "viewer", True)]


async def test_reset_link_sets_a_password_once_and_ends_sessions(clock):
    service, _ = make(clock, reset_ttl=timedelta(hours=1))
    ada = await service.authenticate((await service.sign_up("ada", PW)).token)
    bob = await service.sign_up("bob", PW)
    token, record = await service.reset_link(ada, "bob")
    assert record.user == "bob" and token.startswith("pr_")
    assert await service.reset_password(token, "a brand new password") == "bob"
    with pytest.raises(SessionEnded):
        await service.authenticate(bob.token)
    with pytest.raises(Forbidden, match="already used"):
        await service.reset_password(token, "another new password")
    assert (await service.sign_in("bob", "a brand new password")).account.name == "bob"
    late, _ = await service.reset_link(ada, "bob")
    clock.advance(3601)
    with pytest.raises(Forbidden, match="expired"):
        await service.reset_password(late, "a brand new password")


async def test_agent_keys_authenticate_their_agent_until_revoked(clock):
    service, changes = make(clock)
    ada = await service.authenticate((await service.sign_up("ada", PW)).token)
    await service.sign_up("bob", PW)
    key, record = await service.create_key(ada, "deployer", "CI")
    identity = await service.authenticate(key, "deployer")
    assert identity == Identity("deployer", Role.AGENT, key_id=record.id)
    assert (await service.list_keys(ada))[0].last_used_at == clock.now
    with pytest.raises(Unauthorized, match="belong"):
        await service.authenticate(key, "ada")
    with pytest.raises(Conflict, match="person"):
        await service.create_key(ada, "bob")
    with pytest.raises(Conflict, match="built-in"):
        await service.create_key(ada, "helper")
    await service.authenticate(issue_token(SECRET, "helper", "agent"), "helper")  # as the server registers it
    with pytest.raises(Conflict, match="built-in"):
        await service.set_disabled(ada, "helper", True)
    await service.revoke_key(ada, record.id)
    assert changes[-1] == AccountChange("deployer", "agent", False, ChangeKind.KEY_REVOKED)
    with pytest.raises(SessionEnded, match="revoked"):
        await service.authenticate(key, "deployer")
    with pytest.raises(SessionEnded):
        await service.recheck(identity)
    assert (await service.set_disabled(ada, "deployer", True)).disabled  # an external agent can be


async def test_invite_only_sign_up(clock):
    service, _ = make(clock, signup=SignupPolicy.INVITE, invite_ttl=timedelta(days=1))
    ada = await service.authenticate((await service.sign_up("ada", PW)).token)  # the first is always allowed
    with pytest.raises(Forbidden, match="invite"):
        await service.sign_up("bob", PW)
    invite, record = await service.create_invite(ada, "viewer")
    bob = await service.sign_up("bob", PW, invite=invite)
    assert bob.account.role == "viewer"
    with pytest.raises(Forbidden, match="already used"):
        await service.sign_up("carol", PW, invite=invite)
    revoked, revoked_record = await service.create_invite(ada)
    await service.revoke_invite(ada, revoked_record.id)
    with pytest.raises(Forbidden, match="already used or has expired"):
        await service.sign_up("carol", PW, invite=revoked)
    late, _ = await service.create_invite(ada)
    clock.advance(86401)
    with pytest.raises(Forbidden):
        await service.sign_up("carol", PW, invite=late)
    with pytest.raises(Forbidden, match="not valid"):
        await service.sign_up("carol", PW, invite="iv_forged.secret")


async def test_closed_sign_up(clock):
    service, _ = make(clock, signup=SignupPolicy.CLOSED)
    await service.sign_up("ada", PW)
    with pytest.raises(Forbidden, match="closed"):
        await service.sign_up("bob", PW)


async def test_another_process_sees_a_change_once_its_hub_forgets_the_cached_account(clock):
    store = MemoryAccountStore()
    here = AccountService(store, AccountsConfig(secret=SECRET), clock=clock)
    there = AccountService(store, AccountsConfig(secret=SECRET), clock=clock)  # a second server process
    ada = await here.authenticate((await here.sign_up("ada", PW)).token)
    bob = await here.sign_up("bob", PW)
    assert (await there.authenticate(bob.token)).role is Role.DEVELOPER  # now cached there
    await here.set_disabled(ada, "bob", True)
    there.forget("bob")  # what the hub does when the account_updated event reaches that process
    with pytest.raises(AccountDisabled):
        await there.authenticate(bob.token)
