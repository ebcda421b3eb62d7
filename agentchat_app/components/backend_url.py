"""URLs of the app's own backend routes (``/auth/*``, ``/files/*``) as the page must use them.

The page reaches the backend the way Reflex's own socket does (``getBackendURL``: a ``localhost``
API URL is rewritten to the page's host name), so the session cookie set by ``/auth/*`` is sent
on the Reflex socket and on downloads alike.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.constants import Dirs
from reflex.utils.imports import ImportVar
from reflex.vars.base import VarData

__all__ = ["backend_url", "backend_origin_js"]

_SAME_DOMAIN = ["localhost", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"]


def backend_url(path: str) -> rx.Var[str]:
    """A frontend expression for ``<backend origin><path>`` (for a form's ``action``)."""
    return rx.Var(
        _js_expr=f"(getBackendURL(env.UPLOAD).origin + {json.dumps(path)})",
        _var_data=VarData(imports={
            f"$/{Dirs.STATE_PATH}": [ImportVar(tag="getBackendURL")],
            "$/env.json": [ImportVar(tag="env", is_default=True)],
        }),
    ).to(str)


def backend_origin_js() -> str:
    """The same origin as a self-contained JavaScript expression (for ``rx.call_script``)."""
    api = json.dumps(rx.config.get_config().api_url)
    return (
        f"(() => {{ const u = new URL({api}); if ({json.dumps(_SAME_DOMAIN)}.includes(u.hostname)) {{ "
        "u.hostname = window.location.hostname; if (window.location.protocol === 'https:') "
        "{ u.protocol = 'https:'; u.port = ''; } } return u.origin; })()"
    )
