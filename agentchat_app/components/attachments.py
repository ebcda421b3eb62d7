"""A message's files: image thumbnails opening in a viewer, text/CSV previews, download chips.

Images load from the app's ``/files/{id}`` route (the HttpOnly session cookie proves who asks;
``AuthState.form_base`` is the backend's origin as the page reaches it).  Previews are fetched
server-side on demand (``state/reader.py``) and shown as text nodes and a small table.
"""

from __future__ import annotations

import reflex as rx

from ..chat.models import AttachmentView, FilePreview
from ..state.chat import ChatState
from .page_values import PageValues

__all__ = ["attachment"]


def _src(item: AttachmentView, page: PageValues) -> rx.Var[str]:
    return page.form_base + "/files/" + item.id


def _chip(item: AttachmentView) -> rx.Component:
    return rx.button(
        rx.icon("paperclip", size=14, aria_hidden="true"),
        rx.text(item.name, as_="span", class_name="attachment-name"),
        rx.text(item.size_label, as_="span", size="1", color_scheme="gray"),
        variant="surface",
        size="1",
        radius="full",
        class_name="attachment-chip",
        on_click=ChatState.download(item.id, item.name),
        aria_label=f"Download {item.name} ({item.size_label})",
    )


def _image(item: AttachmentView, page: PageValues) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.image(src=_src(item, page), alt=item.name, class_name="attachment-thumb", loading="lazy"),
                variant="ghost",
                class_name="thumb-button",
                aria_label=f"View image {item.name}",
            ),
        ),
        rx.dialog.content(
            rx.dialog.title(item.name, size="3", class_name="viewer-title"),
            rx.dialog.description(item.size_label, size="1", color_scheme="gray"),
            rx.center(rx.image(src=_src(item, page), alt=item.name, class_name="viewer-image"), padding_y="8px"),
            rx.hstack(
                _chip(item),
                rx.dialog.close(rx.button("Close", variant="soft", size="2")),
                justify="end",
                spacing="3",
                align="center",
            ),
            max_width="min(92vw, 1100px)",
        ),
    )


def _preview_body(preview: FilePreview) -> rx.Component:
    return rx.cond(
        preview.kind == "table",
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(rx.foreach(preview.header, lambda h: rx.table.column_header_cell(h)))),
                rx.table.body(rx.foreach(
                    preview.rows,
                    lambda row: rx.table.row(rx.foreach(row, lambda cell: rx.table.cell(cell))),
                )),
                size="1",
                variant="surface",
            ),
            class_name="preview-table",
        ),
        rx.cond(
            preview.kind == "text",
            rx.el.pre(rx.foreach(preview.lines, lambda line: rx.fragment(line, "\n")), class_name="preview-text",
                      tab_index=0),
        ),
    )


def _preview(item: AttachmentView, page: PageValues) -> rx.Component:
    return rx.foreach(
        page.previews,
        lambda preview: rx.cond(
            preview.file_id == item.id,
            rx.vstack(
                _preview_body(preview),
                rx.cond(preview.note != "", rx.text(preview.note, size="1", color_scheme="gray")),
                spacing="1",
                class_name="attachment-preview",
                width="100%",
            ),
        ),
    )


def _previewable(item: AttachmentView, page: PageValues) -> rx.Component:
    shown = page.preview_ids.contains(item.id)
    return rx.vstack(
        rx.hstack(
            _chip(item),
            rx.button(
                rx.cond(page.loading_preview == item.id, rx.spinner(size="1"),
                        rx.icon("eye", size=14, aria_hidden="true")),
                rx.cond(shown, "Hide preview", "Preview"),
                size="1",
                variant="ghost",
                class_name="preview-button",
                on_click=rx.cond(shown, ChatState.hide_preview(item.id), ChatState.load_preview(item.id, item.preview)),
                aria_label=rx.cond(shown, f"Hide the preview of {item.name}", f"Preview {item.name}"),
            ),
            align="center",
            spacing="2",
        ),
        _preview(item, page),
        spacing="1",
        max_width="100%",
    )


def attachment(item: AttachmentView, page: PageValues) -> rx.Component:
    return rx.match(
        item.preview,
        ("image", _image(item, page)),
        ("text", _previewable(item, page)),
        ("csv", _previewable(item, page)),
        _chip(item),
    )
