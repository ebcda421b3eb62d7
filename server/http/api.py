"""The JSON API under ``/api/``: accounts, sessions, admin, agent keys, invites and files.

Every handler is thin: parse the request, call the accounts service or the store, shape the
answer.  Errors are ``{"error": {"code", "message"}}`` with the status of the ``AccountError``
(400/401/403/404/409/413/415/429, ``Retry-After`` on 429).  ``docs/protocol.md`` ("HTTP API")
has an example per endpoint.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from agentchat_client.protocol import iso
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..accounts import AccountError, AccountService
from ..accounts.base import AccountRecord, AgentKeyRecord, InviteRecord
from ..accounts.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from ..auth import Identity
from ..settings import Settings
from ..store import Store
from .files import UploadRefused, check_upload, clean_name, guess_type, save_upload, stored_path

__all__ = ["ApiContext", "api_routes", "json_response", "error_response"]

MAX_JSON_BYTES = 64 * 1024


@dataclass(slots=True)
class ApiContext:
    accounts: AccountService
    store: Store
    settings: Settings
    stats: Callable[[], dict[str, Any]]
    started: float


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JsonResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def error_response(status: int, code: str, message: str, retry_after: float | None = None) -> Response:
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after else None
    body: dict[str, Any] = {"code": code, "message": message}
    if retry_after:
        body["retryAfter"] = round(retry_after, 1)
    return json_response({"error": body}, status, headers)


Handler = Callable[[Request, ApiContext], Awaitable[Response]]


def _endpoint(handler: Handler, context: ApiContext) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, context)
        except AccountError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.retry_after)
        except UploadRefused as exc:
            code = {413: "too_large", 415: "unsupported_type"}.get(exc.status, "invalid_input")
            return error_response(exc.status, code, exc.message)

    return endpoint


# --- request helpers ---------------------------------------------------------------------------

async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        raise InvalidInput("The request body is too large.")
    if not body:
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return value


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise InvalidInput(f"{name}: a string is required.")
    return value


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send Authorization: Bearer <access token>.")
    return token.strip()


async def _identity(request: Request, context: ApiContext) -> Identity:
    return await context.accounts.authenticate(_bearer(request))


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- shapes --------------------------------------------------------------------------------------

def _user(account: AccountRecord) -> dict[str, Any]:
    return {"name": account.name, "role": account.role, "isAgent": account.is_agent, "disabled": account.disabled}


def _person(account: AccountRecord) -> dict[str, Any]:
    return {**_user(account), "createdAt": iso(account.created_at), "lastActive": iso(account.last_seen)}


def _key(record: AgentKeyRecord) -> dict[str, Any]:
    return {"id": record.id, "agent": record.agent, "label": record.label, "createdBy": record.created_by,
            "createdAt": iso(record.created_at), "lastUsedAt": iso(record.last_used_at),
            "revokedAt": iso(record.revoked_at)}


def _invite(record: InviteRecord) -> dict[str, Any]:
    return {"id": record.id, "role": record.role, "createdBy": record.created_by, "createdAt": iso(record.created_at),
            "expiresAt": iso(record.expires_at), "usedBy": record.used_by, "usedAt": iso(record.used_at),
            "revokedAt": iso(record.revoked_at)}


def _session_body(result: Any) -> dict[str, Any]:
    body = {"user": _user(result.account), "accessToken": result.token, "accessExpiresAt": iso(result.expires_at),
            "sessionId": result.session_id}
    if getattr(result, "refresh_token", ""):
        body["refreshToken"] = result.refresh_token
    return body


# --- sessions ------------------------------------------------------------------------------------

async def sign_up(request: Request, context: ApiContext) -> Response:
    body = await _json(request)
    invite = body.get("invite") if isinstance(body.get("invite"), str) else None
    result = await context.accounts.sign_up(_text(body, "username", required=False),
                                            _text(body, "password", required=False), invite=invite or None)
    return json_response(_session_body(result), 201)


async def sign_in(request: Request, context: ApiContext) -> Response:
    body = await _json(request)
    result = await context.accounts.sign_in(_text(body, "username", required=False),
                                            _text(body, "password", required=False), address=_address(request))
    return json_response(_session_body(result))


async def refresh(request: Request, context: ApiContext) -> Response:
    body = await _json(request)
    result = await context.accounts.refresh(_text(body, "refreshToken"))
    return json_response(_session_body(result))


async def sign_out(request: Request, context: ApiContext) -> Response:
    body = await _json(request)
    if isinstance(body.get("refreshToken"), str):
        await context.accounts.sign_out(refresh_token=body["refreshToken"])
    else:
        await context.accounts.sign_out(await _identity(request, context))
    return Response(status_code=204)


async def sign_out_everywhere(request: Request, context: ApiContext) -> Response:
    count = await context.accounts.sign_out_everywhere(await _identity(request, context))
    return json_response({"ended": count})


async def set_password(request: Request, context: ApiContext) -> Response:
    body = await _json(request)
    name = await context.accounts.reset_password(_text(body, "token"), _text(body, "password", required=False))
    return json_response({"name": name})


async def me(request: Request, context: ApiContext) -> Response:
    identity = await _identity(request, context)
    account = await context.accounts.me(identity)
    return json_response({**_user(account), "role": identity.role.value, "sessionId": identity.session_id})


# --- admin ---------------------------------------------------------------------------------------

async def list_people(request: Request, context: ApiContext) -> Response:
    people = await context.accounts.list_people(await _identity(request, context))
    return json_response({"people": [_person(p) for p in people]})


async def update_person(request: Request, context: ApiContext) -> Response:
    identity = await _identity(request, context)
    name = request.path_params["name"]
    body = await _json(request)
    if "role" not in body and "disabled" not in body:
        raise InvalidInput("Send role and/or disabled.")
    account = None
    if "role" in body:
        account = await context.accounts.change_role(identity, name, _text(body, "role"))
    if "disabled" in body:
        if not isinstance(body["disabled"], bool):
            raise InvalidInput("disabled: true or false.")
        account = await context.accounts.set_disabled(identity, name, body["disabled"])
    assert account is not None
    return json_response(_person(account))


async def reset_link(request: Request, context: ApiContext) -> Response:
    token, record = await context.accounts.reset_link(await _identity(request, context), request.path_params["name"])
    return json_response({"token": token, "name": record.user, "expiresAt": iso(record.expires_at)}, 201)


async def list_keys(request: Request, context: ApiContext) -> Response:
    keys = await context.accounts.list_keys(await _identity(request, context))
    return json_response({"keys": [_key(k) for k in keys]})


async def create_key(request: Request, context: ApiContext) -> Response:
    identity = await _identity(request, context)
    body = await _json(request)
    token, record = await context.accounts.create_key(identity, _text(body, "agent"),
                                                      _text(body, "label", required=False))
    return json_response({"key": token, **_key(record)}, 201)


async def revoke_key(request: Request, context: ApiContext) -> Response:
    record = await context.accounts.revoke_key(await _identity(request, context), request.path_params["key_id"])
    return json_response(_key(record))


async def list_invites(request: Request, context: ApiContext) -> Response:
    invites = await context.accounts.list_invites(await _identity(request, context))
    return json_response({"invites": [_invite(i) for i in invites]})


async def create_invite(request: Request, context: ApiContext) -> Response:
    identity = await _identity(request, context)
    body = await _json(request)
    token, record = await context.accounts.create_invite(identity, _text(body, "role", required=False) or "developer")
    return json_response({"invite": token, **_invite(record)}, 201)


async def revoke_invite(request: Request, context: ApiContext) -> Response:
    record = await context.accounts.revoke_invite(await _identity(request, context),
                                                  request.path_params["invite_id"])
    return json_response(_invite(record))


# --- files ---------------------------------------------------------------------------------------

async def upload(request: Request, context: ApiContext) -> Response:
    """Raw body upload: ``POST /api/files?name=<filename>`` with the file's Content-Type."""
    identity = await _identity(request, context)
    if not identity.role.can_post:
        raise Forbidden("Viewers may read but not upload files.")
    settings = context.settings
    name = clean_name(request.query_params.get("name") or request.headers.get("x-filename") or "")
    content_type = guess_type(name, request.headers.get("content-type"))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        check_upload(name, content_type, int(declared) or 1, settings)
    limit = settings.max_upload_bytes
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            check_upload(name, content_type, received, settings)
        chunks.append(chunk)
    saved = await save_upload(context.store, settings, name, content_type, b"".join(chunks), identity.user_id)
    return json_response({"id": saved.id, "name": saved.name, "size": saved.size,
                          "contentType": saved.content_type}, 201)


async def download(request: Request, context: ApiContext) -> Response:
    await _identity(request, context)
    found = await context.store.get_attachments([request.path_params["file_id"]])
    if not found:
        raise NotFound("No such file.")
    item = found[0]
    path = stored_path(context.settings, item)
    if not path.is_file():
        raise NotFound("The file is no longer stored.")
    disposition = f"attachment; filename*=UTF-8''{quote(item.name)}"
    return FileResponse(path, media_type=item.content_type, headers={
        "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


# --- health --------------------------------------------------------------------------------------

async def health(request: Request, context: ApiContext) -> Response:
    return json_response({"status": "ok", "uptime": round(time.monotonic() - context.started, 1), **context.stats()})


def api_routes(context: ApiContext) -> list[Route]:
    def route(path: str, handler: Handler, *methods: str) -> Route:
        return Route(path, _endpoint(handler, context), methods=list(methods))

    return [
        route("/healthz", health, "GET"),
        route("/api/auth/sign-up", sign_up, "POST"),
        route("/api/auth/sign-in", sign_in, "POST"),
        route("/api/auth/refresh", refresh, "POST"),
        route("/api/auth/sign-out", sign_out, "POST"),
        route("/api/auth/sign-out-everywhere", sign_out_everywhere, "POST"),
        route("/api/auth/password", set_password, "POST"),
        route("/api/me", me, "GET"),
        route("/api/admin/people", list_people, "GET"),
        route("/api/admin/people/{name:str}", update_person, "PATCH"),
        route("/api/admin/people/{name:str}/reset-link", reset_link, "POST"),
        route("/api/admin/agent-keys", list_keys, "GET"),
        route("/api/admin/agent-keys", create_key, "POST"),
        route("/api/admin/agent-keys/{key_id:str}", revoke_key, "DELETE"),
        route("/api/admin/invites", list_invites, "GET"),
        route("/api/admin/invites", create_invite, "POST"),
        route("/api/admin/invites/{invite_id:str}", revoke_invite, "DELETE"),
        route("/api/files", upload, "POST"),
        route("/api/files/{file_id:str}", download, "GET"),
    ]
