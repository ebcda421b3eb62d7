"""Tokens: the role comes from the token, and only a valid, current, own token works."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from server.auth import TokenError, issue_token, load_secret, verify_token
from agentchat_client.protocol import Role
from server.settings import Settings

SECRET = "unit-secret-unit-secret-unit-secret"


def test_round_trip_keeps_role() -> None:
    identity = verify_token(SECRET, issue_token(SECRET, "ada", "viewer"), "ada")
    assert identity.user_id == "ada" and identity.role is Role.VIEWER


@pytest.mark.parametrize(
    "tok, user",
    [
        (lambda: issue_token(SECRET, "ada", "admin", timedelta(seconds=-30)), "ada"),
        (lambda: issue_token(SECRET, "bob", "admin"), "ada"),
        (lambda: issue_token("x" * 40, "ada", "admin"), "ada"),
        (lambda: "", "ada"),
    ],
)
def test_rejections(tok, user: str) -> None:  # noqa: ANN001
    with pytest.raises(TokenError):
        verify_token(SECRET, tok(), user)


def test_generated_secret_is_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret="")
    first = load_secret(settings)
    assert load_secret(settings) == first and len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "jwt_secret").st_mode)
    assert mode == 0o600
