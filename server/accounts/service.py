"""The accounts service: the one authority on who someone is and what they may do.

Everything that decides is here; storage is behind ``AccountStore`` and the clock is passed in,
so the rules are tested with ``MemoryAccountStore`` and a fake clock, without a database.

- Sign-up and sign-in create a server-side *session*; the caller gets a short-lived access token
  (JWT with ``sid``) and a refresh credential (``rs_<id>.<secret>``) to renew it.  Signing out
  revokes the session: its access tokens stop working on the next request, and the hub closes
  its sockets (through :class:`AccountChange` events).
- Roles and the disabled flag are read from the stored account on every authentication: a token's
  ``role`` claim only seeds an account that does not exist yet (development tokens).
- Agent keys (``ak_<id>.<secret>``) are revocable credentials an admin makes for an agent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from agentchat_client.protocol import Role, utc_now

from ..auth import Identity, TokenError, issue_token, read_token
from . import credentials as cred
from .base import (
    AccountRecord,
    AccountStore,
    Attempts,
    InviteRecord,
    NameTaken,
    SessionRecord,
)
from .errors import (
    AccountDisabled,
    Conflict,
    Forbidden,
    InvalidInput,
    SessionEnded,
    Throttled,
    Unauthorized,
)
from .admin import ASSIGNABLE_ROLES, AdminOperations
from .events import AccountChange, ChangeKind, ChangeListener
from ..core.names import NAME_RULE, RESERVED_NAMES, name_key, normalise_name
from .passwords import hash_password, password_problem, verify_password
from .throttle import ADDRESS_POLICY, NAME_POLICY, ThrottlePolicy, record_failure, too_many_message, wait_seconds

__all__ = ["AccountService", "AccountsConfig", "SignupPolicy", "SignedIn", "Access", "ASSIGNABLE_ROLES"]

log = logging.getLogger(__name__)

INVALID_LOGIN = "Invalid username or password"
ACCOUNT_CACHE_SECONDS = 5.0
"""Authentication reads an account at most this often per process.  Every change is also
announced (locally at once, to other processes through the hub's fan-out, see ``forget``), so
the bound only matters if an announcement is lost.  Sessions and keys are never cached."""
ACCOUNT_CACHE_MAX = 50_000


class SignupPolicy(StrEnum):
    OPEN = "open"
    INVITE = "invite"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class AccountsConfig:
    secret: str
    access_ttl: timedelta = timedelta(minutes=15)
    session_ttl: timedelta = timedelta(days=14)
    signup: SignupPolicy = SignupPolicy.OPEN
    invite_ttl: timedelta = timedelta(days=7)
    reset_ttl: timedelta = timedelta(hours=24)
    reserved: frozenset[str] = RESERVED_NAMES
    name_throttle: ThrottlePolicy = NAME_POLICY
    address_throttle: ThrottlePolicy = ADDRESS_POLICY


@dataclass(frozen=True, slots=True)
class Access:
    """An access token and what it says."""

    account: AccountRecord
    token: str
    expires_at: datetime
    session_id: str


@dataclass(frozen=True, slots=True)
class SignedIn(Access):
    refresh_token: str = ""


@dataclass(slots=True)
class _Listeners:
    items: list[ChangeListener] = field(default_factory=list)

    def emit(self, change: AccountChange) -> None:
        for listener in list(self.items):
            try:
                listener(change)
            except Exception:
                log.exception("account change listener failed")


class AccountService(AdminOperations):
    def __init__(
        self,
        store: AccountStore,
        config: AccountsConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        agent_names: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.agent_names = agent_names
        """Names of agents registered right now (reserved like the built-in ones)."""
        self._listeners = _Listeners()
        self._accounts: dict[str, tuple[float, AccountRecord]] = {}

    # subscriptions ----------------------------------------------------------------------------
    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener(AccountChange)`` after every committed change; returns an unsubscribe."""
        self._listeners.items.append(listener)
        return lambda: self._listeners.items.remove(listener) if listener in self._listeners.items else None

    def _changed(self, account: AccountRecord, kind: ChangeKind) -> None:
        self.forget(account.name)
        self._listeners.emit(AccountChange(account.name, account.role, account.disabled, kind))

    def forget(self, user_id: str) -> None:
        """Drop what authentication remembers of ``user_id`` (the hub calls this on every process)."""
        self._accounts.pop(user_id, None)

    async def _account_for_auth(self, name: str) -> AccountRecord | None:
        """The account by exact name, from a short-lived cache (connecting costs no database read)."""
        hit = self._accounts.get(name)
        moment = time.monotonic()
        if hit is not None and moment - hit[0] < ACCOUNT_CACHE_SECONDS:
            return hit[1]
        account = await self.store.find_account(name)
        if account is None or account.name != name:
            return account
        if len(self._accounts) >= ACCOUNT_CACHE_MAX:
            self._accounts.clear()
        self._accounts[name] = (moment, account)
        return account

    # sign-up / sign-in --------------------------------------------------------------------------
    def _reserved(self, name: str) -> bool:
        key = name_key(name)
        return key in self.config.reserved or key in {name_key(a) for a in self.agent_names()}

    async def sign_up(self, raw_name: str, password: str, *, invite: str | None = None) -> SignedIn:
        """Create a person's account and sign it in.  The first person becomes admin."""
        name = normalise_name(raw_name or "")
        if not (raw_name or "").strip():
            raise InvalidInput("Choose a username.")
        if name is None:
            raise InvalidInput(NAME_RULE)
        problem = password_problem(password or "")
        if problem:
            raise InvalidInput(problem)
        if self._reserved(name):
            raise Conflict("That username is taken.")
        now = self.clock()
        role = Role.DEVELOPER.value
        invite_id = None
        first = await self.store.count_humans() == 0
        if invite:
            found = await self._usable_invite(invite, now)
            invite_id, role = found.id, found.role
        elif not first and self.config.signup is not SignupPolicy.OPEN:
            if self.config.signup is SignupPolicy.INVITE:
                raise Forbidden("Sign-up needs an invite link from an admin.")
            raise Forbidden("Sign-up is closed here; ask an admin for an account.")
        if await self.store.find_account(name) is not None:
            raise Conflict("That username is taken.")
        hashed = await hash_password(password)
        try:
            account = await self.store.create_account(name, hashed, role, invite_id=invite_id, now=now)
        except NameTaken:
            raise Conflict("That username is taken.") from None
        except LookupError:
            raise Forbidden("This invite link was already used or has expired.") from None
        return await self._open_session(account, now)

    async def _usable_invite(self, invite: str, now: datetime) -> InviteRecord:
        parsed = cred.parse_credential(invite, cred.INVITE)
        found = await self.store.get_invite(parsed.id) if parsed else None
        if parsed is None or found is None or not cred.secret_matches(parsed, found.secret_hash):
            raise Forbidden("This invite link is not valid.")
        if not found.usable(now):
            raise Forbidden("This invite link was already used or has expired.")
        return found

    async def sign_in(self, raw_name: str, password: str, *, address: str | None = None) -> SignedIn:
        """Check the password (throttled per name and per address) and open a session."""
        now = self.clock()
        name = normalise_name(raw_name or "") or ""
        keys = [f"name:{name_key(name)}"] + ([f"addr:{address}"] if address else [])
        attempts = await self.store.get_attempts(keys)
        policies = {keys[0]: self.config.name_throttle, **({keys[1]: self.config.address_throttle} if address else {})}
        wait = max((wait_seconds(attempts[k], policies[k], now) for k in attempts), default=0.0)
        if wait > 0:
            raise Throttled(too_many_message(wait), retry_after=wait)
        account = await self.store.find_account(name) if name else None
        stored = account.password_hash if account is not None and not account.is_agent else None
        if not await verify_password(stored, password or ""):
            failed = [record_failure(attempts.get(k, Attempts(k)), policies[k], now) for k in keys]
            await self.store.save_attempts(failed)
            raise Unauthorized(INVALID_LOGIN)
        assert account is not None
        await self.store.clear_attempts(keys[0])
        if account.disabled:
            raise AccountDisabled("This account is disabled; ask an admin.")
        return await self._open_session(account, now)

    async def _open_session(self, account: AccountRecord, now: datetime) -> SignedIn:
        secret = cred.new_credential(cred.SESSION)
        record = SessionRecord(secret.id, account.name, secret.secret_hash, now, now + self.config.session_ttl, now)
        await self.store.add_session(record)
        await self.store.update_account(account.name, last_seen=now)
        access = self._access(account, record.id, now)
        return SignedIn(access.account, access.token, access.expires_at, access.session_id, str(secret))

    def _access(self, account: AccountRecord, session_id: str, now: datetime) -> Access:
        expires = now + self.config.access_ttl
        token = issue_token(self.config.secret, account.name, account.role, self.config.access_ttl,
                            session_id=session_id, now=now)
        return Access(account, token, expires, session_id)

    async def refresh(self, refresh_token: str) -> Access:
        """A new access token from a session's refresh credential."""
        now = self.clock()
        parsed = cred.parse_credential(refresh_token, cred.SESSION)
        session = await self.store.get_session(parsed.id) if parsed else None
        if parsed is None or session is None or not cred.secret_matches(parsed, session.secret_hash):
            raise Unauthorized("Sign in again.")
        account = await self._live_session_account(session, now)
        await self.store.touch_session(session.id, account.name, now)
        return self._access(account, session.id, now)

    async def _live_session_account(self, session: SessionRecord, now: datetime) -> AccountRecord:
        if not session.active(now):
            raise SessionEnded("This session has ended; sign in again.")
        account = await self._account_for_auth(session.user)
        if account is None or account.name != session.user:
            raise SessionEnded("This session has ended; sign in again.")
        if account.disabled:
            raise AccountDisabled("This account is disabled; ask an admin.")
        return account

    async def sign_out(self, identity: Identity | None = None, *, refresh_token: str | None = None) -> None:
        """End one session: the caller's (by access token) or the refresh credential's."""
        if refresh_token is not None:
            parsed = cred.parse_credential(refresh_token, cred.SESSION)
            session = await self.store.get_session(parsed.id) if parsed else None
            if parsed is None or session is None or not cred.secret_matches(parsed, session.secret_hash):
                return  # nothing to end: signing out is idempotent
            user, session_id = session.user, session.id
        elif identity is not None and identity.session_id is not None:
            user, session_id = identity.user_id, identity.session_id
        else:
            raise InvalidInput("This credential has no session to end.")
        if await self.store.revoke_sessions(user, self.clock(), session_id):
            await self._announce(user, ChangeKind.SESSION_REVOKED)

    async def sign_out_everywhere(self, identity: Identity) -> int:
        count = await self.store.revoke_sessions(identity.user_id, self.clock())
        await self._announce(identity.user_id, ChangeKind.SESSION_REVOKED)
        return count

    async def _announce(self, user: str, kind: ChangeKind) -> None:
        account = await self.store.find_account(user)
        if account is not None and account.name == user:
            self._changed(account, kind)

    # authentication ---------------------------------------------------------------------------
    async def authenticate(self, token: str | None, user_id: str | None = None) -> Identity:
        """Who presents ``token`` (an access token, a development token or an agent key).

        ``user_id``, when given (the socket's ``auth``), must be whom the credential is for.
        Raises an ``AccountError`` (``Unauthorized`` family) with a message to show.
        """
        if not token:
            raise Unauthorized("A token is required")
        now = self.clock()
        if token.startswith(cred.AGENT_KEY):
            return await self._authenticate_key(token, user_id, now)
        try:
            claims = read_token(self.config.secret, token, now)
        except TokenError as exc:
            raise Unauthorized(str(exc)) from None
        if user_id is not None and claims.user_id != user_id:
            raise Unauthorized("Token does not belong to this user")
        if claims.session_id is not None:
            session = await self.store.get_session(claims.session_id)
            if session is None or session.user != claims.user_id:
                raise SessionEnded("This session has ended; sign in again.")
            live = await self._live_session_account(session, now)
            return Identity(live.name, Role(live.role), session_id=session.id)
        # A development token (``python -m server token``): it may create the account.
        account = await self._account_for_auth(claims.user_id)
        if account is None or account.name != claims.user_id:
            if account is not None:
                raise Unauthorized("That name belongs to another account")
            is_agent = claims.role is Role.AGENT
            try:
                account = await self.store.create_account(claims.user_id, None, claims.role.value, is_agent=is_agent,
                                                          first_is_admin=False, now=now)
            except NameTaken:
                raced = await self.store.find_account(claims.user_id)
                if raced is None or raced.name != claims.user_id:
                    raise Unauthorized("That name belongs to another account") from None
                account = raced
        if account.disabled:
            raise AccountDisabled("This account is disabled; ask an admin.")
        return Identity(account.name, Role(account.role))

    async def _authenticate_key(self, token: str, user_id: str | None, now: datetime) -> Identity:
        parsed = cred.parse_credential(token, cred.AGENT_KEY)
        key = await self.store.get_key(parsed.id) if parsed else None
        if parsed is None or key is None or not cred.secret_matches(parsed, key.secret_hash):
            raise Unauthorized("Token is invalid")
        if key.revoked_at is not None:
            raise SessionEnded("This agent key was revoked")
        if user_id is not None and key.agent != user_id:
            raise Unauthorized("Token does not belong to this user")
        account = await self._account_for_auth(key.agent)
        if account is None or account.name != key.agent:
            raise Unauthorized("Token is invalid")
        if account.disabled:
            raise AccountDisabled("This account is disabled; ask an admin.")
        await self.store.touch_key(key.id, now)
        return Identity(account.name, Role.AGENT, key_id=key.id)

    async def recheck(self, identity: Identity) -> Identity:
        """The identity as it stands now (role, session, key, disabled), or the reason it ended."""
        now = self.clock()
        account = await self.store.find_account(identity.user_id)
        if account is None or account.name != identity.user_id:
            raise SessionEnded("This account no longer exists.")
        if account.disabled:
            raise AccountDisabled("This account is disabled; ask an admin.")
        if identity.session_id is not None:
            session = await self.store.get_session(identity.session_id)
            if session is None or not session.active(now):
                raise SessionEnded("This session has ended; sign in again.")
        if identity.key_id is not None:
            key = await self.store.get_key(identity.key_id)
            if key is None or key.revoked_at is not None:
                raise SessionEnded("This agent key was revoked")
            return identity
        return Identity(identity.user_id, Role(account.role), identity.session_id, identity.key_id)
