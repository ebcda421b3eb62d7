"""What a person does with a message (Reply in thread, Edit, Delete, React) and what it shows
of its changing state ("(edited)", the deletion tombstone, reaction chips, "3 replies").

The actions appear on hover or keyboard focus (``assets/rooms.css``); viewers get none. Editing
and deleting use one dialog each for the whole page, not one per message.
"""

from __future__ import annotations

import reflex as rx

from ..chat.models import ChatMessage, ReactionView
from ..state.chat import ChatState
from ..state.rooms import EMOJI
from .page_values import PageValues

__all__ = ["message_actions", "message_state", "edit_dialog", "delete_dialog"]


def _action(icon: str, label: str, on_click: rx.EventHandler | rx.EventSpec, aria_label: rx.Var | str) -> rx.Component:
    return rx.icon_button(rx.icon(icon, size=14), size="1", variant="ghost", color_scheme="gray",
                          on_click=on_click, aria_label=aria_label, title=label)


def _emoji_picker(message: ChatMessage) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(rx.icon("smile-plus", size=14), size="1", variant="ghost", color_scheme="gray",
                           aria_label=f"React to {message.sender}", title="React"),
        ),
        rx.popover.content(
            rx.hstack(
                *[
                    rx.popover.close(
                        rx.button(emoji, size="1", variant="ghost", aria_label=f"React with {emoji}",
                                  on_click=ChatState.react(message.id, emoji, "add"), class_name="emoji-choice"),
                    )
                    for emoji in EMOJI
                ],
                spacing="1",
                wrap="wrap",
            ),
            size="1",
            max_width="260px",
            aria_label="Pick a reaction",
        ),
    )


def message_actions(message: ChatMessage, page: PageValues) -> rx.Component:
    """The toolbar: threads only for timeline messages; edit for my own, delete for mine or an admin."""
    usable = page.can_post & (message.id > 0) & ~message.deleted
    return rx.cond(
        usable,
        rx.hstack(
            rx.cond(
                message.thread_id == 0,
                rx.box(_action("messages-square", "Reply in thread", ChatState.open_thread(message.id),
                               f"Open a thread on {message.sender}'s message"), class_name="thread-action"),
            ),
            _emoji_picker(message),
            rx.cond(
                message.is_mine & ~message.is_agent,
                _action("pencil", "Edit", ChatState.start_edit(message.id, message.text), "Edit message"),
            ),
            rx.cond(
                message.is_mine | page.is_admin,
                _action("trash-2", "Delete", ChatState.ask_delete(message.id), "Delete message"),
            ),
            spacing="1",
            align="center",
            class_name="message-actions",
            role="toolbar",
            aria_label=f"Actions for the message from {message.sender}",
        ),
    )


def _reaction(message_id: rx.Var[int], reaction: ReactionView, can_post: rx.Var[bool]) -> rx.Component:
    return rx.button(
        rx.text(reaction.emoji, as_="span"),
        rx.text(reaction.count, as_="span", size="1"),
        size="1",
        radius="full",
        variant=rx.cond(reaction.mine, "soft", "surface"),
        disabled=~can_post,
        on_click=ChatState.react(message_id, reaction.emoji, rx.cond(reaction.mine, "remove", "add")),
        title=reaction.who,
        aria_label=f"{reaction.emoji} {reaction.count}: {reaction.who}",
        aria_pressed=rx.cond(reaction.mine, "true", "false"),
        class_name="reaction-chip",
        custom_attrs={"data-emoji": reaction.emoji},
    )


def message_state(message: ChatMessage, page: PageValues) -> rx.Component:
    """Markers and chips under the text."""
    return rx.fragment(
        rx.cond(
            message.deleted,
            rx.text("This message was deleted", size="2", color_scheme="gray", class_name="message-deleted",
                    font_style="italic"),
        ),
        rx.cond(message.edited, rx.text("(edited)", size="1", color_scheme="gray", class_name="message-edited")),
        rx.cond(
            message.reactions.length() > 0,
            rx.hstack(rx.foreach(message.reactions, lambda r: _reaction(message.id, r, page.can_post)), spacing="1", wrap="wrap",
                      class_name="reactions"),
        ),
        rx.cond(
            (message.reply_count > 0) & (message.thread_id == 0),
            rx.button(
                rx.icon("messages-square", size=14, aria_hidden="true"),
                rx.cond(message.reply_count == 1, "1 reply", f"{message.reply_count} replies"),
                size="1",
                variant="ghost",
                class_name="thread-link",
                on_click=ChatState.open_thread(message.id),
                aria_label=f"Open the thread of {message.sender}'s message",
            ),
        ),
    )


def edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit message"),
            rx.form(
                rx.vstack(
                    rx.text_area(name="text", value=ChatState.editing_text, on_change=ChatState.set_editing_text,
                                 rows="4", width="100%", aria_label="Message text", id="edit-text",
                                 enter_key_submit=True),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                  on_click=ChatState.cancel_edit)),
                        rx.button("Save", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ChatState.save_edit,
            ),
            max_width="520px",
        ),
        open=ChatState.editing_id > 0,
        on_open_change=ChatState.edit_open_changed,
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete message?"),
            rx.alert_dialog.description("Everyone will see “This message was deleted” instead. This cannot be undone."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=ChatState.cancel_delete)),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=ChatState.confirm_delete)),
                justify="end",
                spacing="3",
                margin_top="12px",
            ),
            max_width="420px",
        ),
        open=ChatState.deleting_id > 0,
        on_open_change=ChatState.delete_open_changed,
    )
