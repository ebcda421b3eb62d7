"""``/api/me/mcp-tokens``: a person's own tokens for the per-user MCP servers (the settings page).

``GET`` lists the per-user servers of the agents config, each with ``hasToken`` and a masked
``hint`` (``"••••wxyz"``); ``PUT /api/me/mcp-tokens/{server}`` with ``{"token": "..."}`` stores
(or replaces) the token, ``DELETE`` removes it.  No answer ever carries a stored token: once
saved it goes only to that server, in that person's own calls.  ``Authorization: Bearer <access
token>`` as for the rest of the API; agents have no personal tokens (403).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from agentchat_client.protocol import iso
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accounts import AccountError, AccountService
from ..accounts.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from ..accounts.tool_tokens import MAX_TOKEN_CHARS, TokenHint, ToolTokens
from ..core.identity import Identity
from ..core.mcp_servers import McpServerSpec
from .api import MAX_JSON_BYTES, error_response, json_response

__all__ = ["tool_token_routes"]


def _server(spec: McpServerSpec, hint: TokenHint | None) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description, "url": spec.url, "hasToken": hint is not None,
            "hint": hint.hint if hint else None,
            "updatedAt": iso(datetime.fromtimestamp(hint.updated_at, UTC)) if hint else None}


def tool_token_routes(accounts: AccountService, tokens: ToolTokens, servers: Sequence[McpServerSpec]) -> list[Route]:
    per_user = {spec.name: spec for spec in servers if spec.per_user}

    async def person(request: Request) -> Identity:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send Authorization: Bearer <access token>.")
        identity = await accounts.authenticate(token.strip())
        if identity.is_agent:
            raise Forbidden("Agents have no personal MCP tokens.")
        return identity

    def spec_of(request: Request) -> McpServerSpec:
        name = request.path_params["server"]
        if name not in per_user:
            raise NotFound(f"There is no per-user MCP server named {name[:64]!r}.")
        return per_user[name]

    def hints(user: str) -> dict[str, TokenHint]:
        return {hint.server: hint for hint in tokens.listing(user)}

    async def listing(request: Request) -> Response:
        mine = hints((await person(request)).user_id)
        return json_response({"servers": [_server(spec, mine.get(name)) for name, spec in per_user.items()]})

    async def put(request: Request) -> Response:
        identity = await person(request)
        spec = spec_of(request)
        body = await request.body()
        if len(body) > MAX_JSON_BYTES:
            raise InvalidInput("The request body is too large.")
        try:
            data = orjson.loads(body or b"{}")
        except orjson.JSONDecodeError:
            raise InvalidInput("The request body is not valid JSON.") from None
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise InvalidInput("token: the token to store is required.")
        try:
            hint = tokens.set(identity.user_id, spec.name, token)
        except ValueError:
            raise InvalidInput(f"token: 1 to {MAX_TOKEN_CHARS} characters on one line.") from None
        return json_response(_server(spec, hint))

    async def delete(request: Request) -> Response:
        identity = await person(request)
        spec = spec_of(request)
        tokens.clear(identity.user_id, spec.name)
        return json_response(_server(spec, None))

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except AccountError as exc:
                return error_response(exc.status, exc.code, exc.message, exc.retry_after)

        return endpoint

    return [Route("/api/me/mcp-tokens", guarded(listing), methods=["GET"]),
            Route("/api/me/mcp-tokens/{server:str}", guarded(put), methods=["PUT"]),
            Route("/api/me/mcp-tokens/{server:str}", guarded(delete), methods=["DELETE"])]
