"""Opaque credentials: ``<prefix><id>.<secret>``, stored as the id and a hash of the secret.

The secret has 256 bits of randomness, so a plain SHA-256 is enough to store it (a slow
password hash protects guessable secrets; these are not guessable), and a leaked database
does not hand out working credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["Credential", "new_credential", "parse_credential", "secret_matches", "SESSION", "AGENT_KEY", "INVITE",
           "RESET"]

SESSION = "rs_"
AGENT_KEY = "ak_"
INVITE = "iv_"
RESET = "pr_"


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    secret: str
    prefix: str

    def __str__(self) -> str:
        return f"{self.prefix}{self.id}.{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_credential(prefix: str) -> Credential:
    return Credential(secrets.token_urlsafe(12), secrets.token_urlsafe(32), prefix)


def parse_credential(value: str | None, prefix: str) -> Credential | None:
    if not value or not value.startswith(prefix) or len(value) > 200:
        return None
    ident, sep, secret = value[len(prefix):].partition(".")
    if not sep or not ident or not secret:
        return None
    return Credential(ident, secret, prefix)


def secret_matches(credential: Credential, stored_hash: str) -> bool:
    return hmac.compare_digest(credential.secret_hash, stored_hash)
