"""Small pieces shared by several regions."""

from __future__ import annotations

import reflex as rx

__all__ = ["avatar", "role_badge"]


def avatar(name: rx.Var[str] | str, is_agent: rx.Var[bool] | bool = False, size: str = "2") -> rx.Component:
    """A round badge with the first letter of the name (no images, no external requests).

    Radix Themes' own markup and classes, without its component: ``rx.avatar`` waits for an image
    that never comes and draws its letter two commits later, so every new message was drawn
    three times in every tab and its letter popped in late.
    """
    letter = rx.Var.create(name).to(str)[0:1].upper() if isinstance(name, rx.Var) else str(name)[:1].upper()
    return rx.el.span(
        rx.el.span(letter, class_name="rt-AvatarFallback rt-one-letter"),
        class_name=f"rt-reset rt-AvatarRoot rt-r-size-{size} rt-variant-soft",
        custom_attrs={"data-accent-color": rx.cond(is_agent, "violet", "blue") if isinstance(is_agent, rx.Var)
                      else ("violet" if is_agent else "blue"), "data-radius": "full",
                      "aria-hidden": "true"},
    )


def role_badge(role: rx.Var[str]) -> rx.Component:
    return rx.badge(
        role,
        variant="soft",
        size="1",
        color_scheme=rx.match(role, ("admin", "amber"), ("viewer", "gray"), ("agent", "violet"), "blue"),
    )
