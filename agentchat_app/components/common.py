"""Small pieces shared by several regions."""

from __future__ import annotations

import reflex as rx

__all__ = ["avatar", "role_badge"]


def avatar(name: rx.Var[str] | str, is_agent: rx.Var[bool] | bool = False, size: str = "2") -> rx.Component:
    """A round badge with the first letter of the name (no images, no external requests)."""
    return rx.avatar(
        fallback=rx.Var.create(name).to(str)[0:1].upper() if isinstance(name, rx.Var) else str(name)[:1].upper(),
        size=size,
        radius="full",
        variant="soft",
        color_scheme=rx.cond(is_agent, "violet", "blue"),
        aria_hidden="true",
    )


def role_badge(role: rx.Var[str]) -> rx.Component:
    return rx.badge(
        role,
        variant="soft",
        size="1",
        color_scheme=rx.match(role, ("admin", "amber"), ("viewer", "gray"), ("agent", "violet"), "blue"),
    )
