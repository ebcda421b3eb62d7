"""The companion server's HTTP API, as the app calls it (``httpx``, async).

The app holds no secret of the server and never opens its database: everything about accounts,
sessions and files is a request here.  Errors come back as :class:`ApiError` with the server's
message, ready to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["ApiError", "ServerApi", "http_base"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
UNREACHABLE = "The chat server cannot be reached right now; try again in a moment."


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


def http_base(ws_url: str) -> str:
    """``ws://host:port/ws`` -> ``http://host:port`` (the API shares the WebSocket's port)."""
    scheme, _, rest = ws_url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{'https' if scheme in ('wss', 'https') else 'http'}://{host}"


class ServerApi:
    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT)

    async def close(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                      content: bytes | None = None, headers: dict[str, str] | None = None,
                      params: dict[str, str] | None = None, forwarded_for: str | None = None) -> Any:
        """The decoded JSON answer (None for 204); :class:`ApiError` otherwise."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if forwarded_for:
            sent["X-Forwarded-For"] = forwarded_for
        try:
            response = await self._client.request(method, path, json=json, content=content, headers=sent,
                                                  params=params)
        except httpx.HTTPError:
            raise ApiError(503, "unreachable", UNREACHABLE) from None
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.is_success:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        retry = response.headers.get("retry-after")
        raise ApiError(response.status_code, str(error.get("code") or "error"),
                       str(error.get("message") or f"The chat server answered {response.status_code}."),
                       float(retry) if retry and retry.replace(".", "", 1).isdigit() else None)

    def stream(self, method: str, path: str, *, token: str) -> Any:
        """An ``httpx`` streaming response context (downloads are passed through, not buffered)."""
        return self._client.stream(method, path, headers={"Authorization": f"Bearer {token}"})
