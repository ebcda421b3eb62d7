"""Reaching the app's own backend routes (``/auth/*``, ``/files/*``) from the page.

The page must reach the backend the way Reflex's own socket does (``getBackendURL``: a
``localhost`` API URL is rewritten to the page's host name), so the session cookie set by
``/auth/*`` is sent on the Reflex socket and on downloads alike.  Forms use
``AuthState.form_base`` (the socket's Host, known to the backend); scripts compute the same
origin in the browser with :func:`backend_origin_js`.  Pre-rendered HTML cannot know it: React
does not patch attributes during hydration.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML

__all__ = ["backend_origin_js", "native_form"]

_SAME_DOMAIN = ["localhost", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"]


def backend_origin_js() -> str:
    """The same origin as a self-contained JavaScript expression (for ``rx.call_script``)."""
    api = json.dumps(rx.config.get_config().api_url)
    return (
        f"(() => {{ const u = new URL({api}); if ({json.dumps(_SAME_DOMAIN)}.includes(u.hostname)) {{ "
        "u.hostname = window.location.hostname; if (window.location.protocol === 'https:') "
        "{ u.protocol = 'https:'; u.port = ''; } } return u.origin; })()"
    )


class NativeForm(BaseHTML):
    """A plain ``<form>`` the browser submits itself (``rx.form`` always prevents that)."""

    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create
