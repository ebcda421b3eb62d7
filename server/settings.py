"""Configuration from ``AGENTCHAT_*`` environment variables (and a ``.env`` file).

Every value is validated when the process starts, so a typo in a deployment fails
loudly with the variable's name instead of misbehaving later.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from typing import Annotated, Literal

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CsvList = Annotated[list[str], NoDecode]

__all__ = ["Settings", "get_settings", "reset_settings", "SettingsError"]

DATA_DIR_DEFAULT = Path("data")


class SettingsError(RuntimeError):
    """A configuration value is invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AGENTCHAT_", env_file=".env", extra="ignore", validate_default=True
    )

    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535)
    data_dir: Path = DATA_DIR_DEFAULT
    database_url: str = ""
    """SQLAlchemy URL; empty means SQLite in ``data_dir/agentchat.db``."""

    jwt_secret: str = ""
    """HS256 secret; empty means one is generated once and kept in ``data_dir``."""
    jwt_ttl_seconds: int = Field(7 * 24 * 3600, gt=0)
    """Default validity of development tokens (``python -m server token``)."""

    access_ttl_seconds: int = Field(15 * 60, ge=30, le=24 * 3600)
    """Lifetime of an access token; it is renewed from its session with the refresh credential."""
    session_ttl_seconds: int = Field(14 * 24 * 3600, ge=60)
    """A sign-in session (and the app's session cookie) ends this long after sign-in."""
    signup: Literal["open", "invite", "closed"] = "open"
    """Who may create an account: anyone, people with an invite link from an admin, or nobody
    (the very first account, which becomes admin, can always be created)."""
    invite_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    reset_ttl_seconds: int = Field(24 * 3600, ge=60)
    """How long a password-reset link made by an admin stays valid (it works once)."""
    signin_throttle_seconds: float = Field(1.0, gt=0, le=3600)
    """The first wait after five wrong passwords in a row for one name (twenty for one address);
    each further failure doubles it, up to 15 minutes."""
    trusted_proxies: CsvList = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Peers whose ``X-Forwarded-For`` names the real client (sign-in throttling per address):
    the app when it runs on this machine, or your reverse proxy.  ``*`` trusts everyone."""
    cookie_secure: bool = False
    """For the app: mark the session cookie ``Secure`` even when the app itself sees plain HTTP
    (TLS ends at a proxy in front of it).  Requests that arrive over https always get it."""

    max_message_chars: int = Field(8000, gt=0)
    max_frame_bytes: int = Field(1024 * 1024, ge=1024)
    # A busy human typist sends a few messages a minute; bursts of quick one-liners
    # ("ok", "thanks") come 1-2 s apart.  These limits stop floods, not people.
    max_messages_per_hour: int = Field(600, gt=0)
    response_delay_seconds: float = Field(0.5, ge=0)

    allowed_origins: CsvList = Field(
        default_factory=lambda: [
            "http://localhost:3000",
            "http://127.0.0.1:3000",
            "http://localhost:8000",
            "http://127.0.0.1:8000",
        ]
    )
    """Browser origins allowed to open a WebSocket; ``*`` allows any."""

    ping_interval: float = Field(20.0, gt=0)
    ping_timeout: float = Field(20.0, gt=0)
    max_send_buffer_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024)
    """A client whose unsent backlog exceeds this is disconnected (close code 1008)."""

    auth_timeout_seconds: float = Field(10.0, gt=0)
    """A socket that has not authenticated within this many seconds is closed (1008)."""
    catch_up_timeout_seconds: float = Field(30.0, gt=0)
    """A client whose history or recovery takes longer than this to write is closed (1008)."""
    max_connections_per_user: int = Field(50, gt=0)
    """Open connections one user may hold (tabs, devices, agents); more are refused (1008)."""
    max_connections_per_address: int = Field(500, gt=0)
    """Open sockets from one client address, authenticated or not; more are closed (1008)."""

    recovery_cap: int = Field(500, gt=0)
    """At most this many missed messages are replayed after a reconnect."""
    initial_history: int = Field(50, ge=0, le=200)

    upload_dir: Path = Path("data/uploads")
    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0)
    allowed_upload_types: CsvList = Field(
        default_factory=lambda: [
            "text/*", "image/*", "application/pdf", "application/json",
            "application/zip", "application/x-yaml",
        ]
    )

    redis_url: str = ""
    """Empty: one process, in-memory fan-out. Set: fan-out, presence and limits via Redis."""
    redis_prefix: str = Field("agentchat", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    """Prefix of every Redis key and channel, so several chats (or test runs) share one Redis."""
    presence_ttl_seconds: float = Field(15.0, ge=1.0, le=3600.0)
    """With Redis: a process that stops heart-beating this long is dead; its users go offline."""
    reorder_wait_seconds: float = Field(0.2, ge=0.0, le=10.0)
    """With Redis: how long a message waits for an earlier id before the gap is read from the database."""
    workers: int = Field(1, ge=1, le=64)
    """Server processes on one port (``SO_REUSEPORT``) sharing Redis; more than 1 needs
    ``AGENTCHAT_REDIS_URL``.  ``python -m server`` only; the app runs one in-process server."""
    agent_host: bool = True
    """Run the built-in agents in this process; with several processes set it on exactly one."""
    agents_enabled: bool = True
    builtin_agents: CsvList = Field(default_factory=lambda: ["helper", "tasks", "files"])
    agents_config: Path | None = None
    llm_base_url: str = ""
    llm_api_key: str = ""

    server_url: str = ""
    """For the Reflex app: a running companion server; empty starts one in-process."""

    @field_validator("allowed_origins", "allowed_upload_types", "builtin_agents", "trusted_proxies", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        # Accept "a,b,c" as well as JSON lists, since that is what people type in shells.
        if isinstance(value, str):
            if value.strip().startswith("["):
                import json

                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix:// (e.g. redis://127.0.0.1:6379/0)")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'agentchat.db').resolve()}"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "jwt_secret"


def _load() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "AGENTCHAT_" + "_".join(str(p) for p in err["loc"]).upper()
            problems.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
    except Exception as exc:  # pydantic-settings parse errors (e.g. bad JSON)
        raise SettingsError(f"invalid configuration: {exc}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _load()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
