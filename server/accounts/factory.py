"""The accounts service for a configured server (settings + the server's SQL store)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta

from ..settings import Settings
from ..store import Store
from ..store.sql import SqlStore
from ..core.names import RESERVED_NAMES, name_key
from .service import AccountsConfig, AccountService, SignupPolicy
from .memory import MemoryAccountStore
from .sql import SqlAccountStore
from .throttle import ADDRESS_POLICY, NAME_POLICY

__all__ = ["accounts_for"]


def accounts_for(settings: Settings, secret: str, store: Store,
                 agent_names: Callable[[], Iterable[str]] = tuple) -> AccountService:
    config = AccountsConfig(
        secret=secret,
        access_ttl=timedelta(seconds=settings.access_ttl_seconds),
        session_ttl=timedelta(seconds=settings.session_ttl_seconds),
        signup=SignupPolicy(settings.signup),
        invite_ttl=timedelta(seconds=settings.invite_ttl_seconds),
        reset_ttl=timedelta(seconds=settings.reset_ttl_seconds),
        reserved=RESERVED_NAMES | {name_key(n) for n in settings.builtin_agents},
        name_throttle=replace(NAME_POLICY, base=settings.signin_throttle_seconds),
        address_throttle=replace(ADDRESS_POLICY, base=settings.signin_throttle_seconds),
    )
    accounts = SqlAccountStore(store) if isinstance(store, SqlStore) else MemoryAccountStore()
    return AccountService(accounts, config, agent_names=agent_names)
