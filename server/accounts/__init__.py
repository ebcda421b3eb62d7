"""Accounts, sessions, agent keys, invites and sign-in throttling: the server is the authority.

``service.AccountService`` decides; ``base.AccountStore`` is the storage interface, with
``sql.SqlAccountStore`` (the server's database) and ``memory.MemoryAccountStore`` (tests).
Import ``server.accounts.sql`` explicitly: this package does not import the database layer.
"""

from .errors import AccountError
from .events import CLOSE_ACCOUNT_DISABLED, CLOSE_SESSION_ENDED, AccountChange, ChangeKind
from .service import Access, AccountsConfig, AccountService, SignedIn, SignupPolicy

__all__ = [
    "AccountService", "AccountsConfig", "SignupPolicy", "SignedIn", "Access", "AccountError", "AccountChange",
    "ChangeKind", "CLOSE_SESSION_ENDED", "CLOSE_ACCOUNT_DISABLED",
]
