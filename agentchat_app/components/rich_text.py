"""Safe Markdown for every message, people's and agents' alike.

``rx.markdown`` without the raw-HTML plugin: a ``<script>`` or ``<img onerror>`` stays visible
text.  On top of it:

- links open in a new tab with ``rel="noopener noreferrer"`` (react-markdown already drops
  ``javascript:`` URLs); GFM turns bare URLs into links;
- ``#mention-...`` links made by ``chat/markup.py`` render as highlighted names, not links;
- code blocks get a "Copy code" button;
- Markdown images are not fetched (an echoed ``![](https://tracker/...)`` would make every
  reader's browser call that address): they show as ``[image]``.
"""

from __future__ import annotations

import reflex as rx

from ..chat.markup import MENTION_HREF, MENTION_ME_HREF

__all__ = ["rich_text"]

# Inside a component-map function react-markdown's props are in scope as ``props``.
_HREF = rx.Var(_js_expr="(props.href || '')", _var_type=str)
_IS_MENTION = rx.Var(_js_expr=f"(props.href || '').startsWith({MENTION_HREF!r})", _var_type=bool)
_IS_MINE = rx.Var(_js_expr=f"(props.href || '').startsWith({MENTION_ME_HREF!r})", _var_type=bool)


def _link(children: rx.Var) -> rx.Component:
    # The wrapper receives react-markdown's props spread (href, title); what shows is chosen inside.
    return rx.el.span(
        rx.cond(
            _IS_MENTION,
            rx.el.span(
                children,
                class_name=rx.cond(_IS_MINE, "mention mention-me", "mention"),
            ),
            rx.link(children, href=_HREF, target="_blank", rel="noopener noreferrer", class_name="message-link"),
        ),
        class_name="md-link",
    )


def _code_block(children: rx.Var, **props: object) -> rx.Component:
    copy = rx.icon_button(rx.icon("copy", size=14), size="1", variant="soft", type="button", aria_label="Copy code",
                          on_click=rx.set_clipboard(children), class_name="copy-code")
    return rx.code_block(children, can_copy=True, copy_button=copy, wrap_long_lines=True, margin_y="0.4em",
                         class_name="md-code", **props)


def rich_text(source: rx.Var[str], *, agent: rx.Var[bool] | bool = False) -> rx.Component:
    return rx.markdown(
        source,
        use_raw=False,
        use_math=False,
        use_katex=False,
        component_map={
            "img": lambda _value: rx.text.span("[image]", class_name="md-image"),
            "a": _link,
            "pre": _code_block,
        },
        class_name=rx.cond(agent, "rich-text agent-markdown message-text", "rich-text message-text"),
    )
