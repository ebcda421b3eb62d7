"""Usage and costs, as the /admin page reads them from the server (``GET /api/admin/usage`` and
``/api/admin/usage.csv``, admins only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from . import companion
from .api import UNREACHABLE, ApiError

__all__ = ["usage_report", "usage_csv"]


def _query(first: str | None, last: str | None) -> dict[str, str]:
    return {k: v for k, v in (("from", first), ("to", last)) if v}


async def usage_report(token: str, first: str | None = None, last: str | None = None) -> dict[str, Any]:
    """The report: ``from``, ``to``, ``rows`` and the sums per day in ``agents`` and ``people``."""
    body = await (await companion.api()).request("GET", "/api/admin/usage", token=token, params=_query(first, last))
    return body if isinstance(body, dict) else {}


async def usage_csv(token: str, first: str | None = None, last: str | None = None) -> tuple[str, str]:
    """The file name the server suggests and the CSV text."""
    query = urlencode(_query(first, last))
    api = await companion.api()
    try:
        async with api.stream("GET", "/api/admin/usage.csv" + (f"?{query}" if query else ""), token=token) as response:
            body = await response.aread()
    except OSError:
        raise ApiError(503, "unreachable", UNREACHABLE) from None
    if response.status_code != 200:
        raise ApiError(response.status_code, "error", "The usage export was refused; are you still an admin?")
    disposition = response.headers.get("content-disposition", "")
    name = disposition.split("filename=", 1)[-1].strip('"') if "filename=" in disposition else "agentchat-usage.csv"
    return name, body.decode("utf-8")
