"""The AgentChat Reflex app: pages, theme, the companion server and the session/download routes."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette

from .components.connection_banner import app_overlay
from .pages.admin import admin_page
from .pages.auth import login_page, reset_page, signup_page
from .pages.chat import chat_page
from .pages.settings import settings_page
from .services import web_session
from .services.companion import companion_lifespan
from .state.admin import AdminState
from .state.auth import AuthState
from .state.chat import ChatState
from .state.settings import SettingsState

TITLE = "AgentChat"

app = rx.App(
    stylesheets=["/agentchat.css", "/rooms.css", "/agentchat_ux.css"],
    head_components=[
        rx.el.script(src="/agentchat.js", defer=True),
        rx.el.script(src="/agentchat_keys.js", defer=True),
        rx.el.script(src="/agentchat_notify.js", defer=True),
        rx.el.script(src="/agentchat_ux.js", defer=True),
        rx.el.script(src="/agentchat_send.js", defer=True),
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
    ],
    # Plain HTTP routes: the session cookie (sign-in/up/out) and proxied downloads.
    api_transformer=Starlette(routes=web_session.routes()),
    # Our own connection banner instead of Reflex's overlay (its toast shows framework text:
    # "Cannot connect to server ... Check if server is reachable at ws://..."); components/connection_banner.py.
    extra_app_wraps={(5, "Overlay"): app_overlay},
    # Top right: a toast never covers the composer and its Send button.
    toaster=rx.toast.provider(position="top-right", offset="64px", close_button=True),
)
app.register_lifespan_task(companion_lifespan)
app.add_page(chat_page, route="/", title=TITLE, on_load=[ChatState.load, ChatState.open_room_from_url])
app.add_page(login_page, route="/login", title=f"Sign in · {TITLE}", on_load=AuthState.redirect_if_signed_in)
app.add_page(signup_page, route="/signup", title=f"Create account · {TITLE}", on_load=AuthState.redirect_if_signed_in)
app.add_page(admin_page, route="/admin", title=f"Admin · {TITLE}", on_load=AdminState.load)
app.add_page(settings_page, route="/settings", title=f"Settings · {TITLE}", on_load=SettingsState.load)
app.add_page(reset_page, route="/reset", title=f"New password · {TITLE}", on_load=AuthState.load_reset)
