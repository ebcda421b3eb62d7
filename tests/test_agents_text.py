"""Agents repeat people's words inertly, and count in proper English."""

from __future__ import annotations

import re

import pytest

from server.agents.builtin.taskboard import BoardSummary
from server.agents.text import inert, lines, plural

# What a Markdown renderer (CommonMark + GFM autolinks) would turn into markup if left unescaped.
LIVE_MARKDOWN = re.compile(r"(?<!\\)(\[|\]\(|!\[|\*\*|__|`|<[a-z/]|https?://|www\.|^#|^\s*[-+*] |^\d+\. )", re.M)


@pytest.mark.parametrize(
    "text",
    [
        "[re-login](https://evil.example)",
        "![pixel](http://tracker.example/p.png)",
        "**urgent** __now__ `code`",
        "# Heading",
        "- a list item",
        "<img src=x onerror=alert(1)>",
        "see www.evil.example or https://evil.example",
        "1. first",
    ],
)
def test_inert_text_has_no_live_markdown(text: str) -> None:
    assert not LIVE_MARKDOWN.search(inert(text)), inert(text)


def test_inert_keeps_mentions_and_plain_words() -> None:
    assert inert("Ship v2 for @bob") == "Ship v2 for @bob"
    assert "\n" not in inert("two\nlines")


def test_plurals() -> None:
    assert [plural(1, "task"), plural(2, "task"), plural(0, "entry", "entries")] == ["1 task", "2 tasks", "0 entries"]
    assert BoardSummary(1, 1).describe() == "The one task is done"
    assert BoardSummary(2, 2).describe() == "All 2 tasks done"
    assert BoardSummary(1, 0).describe() == "0 of 1 task done"


def test_lines_stay_lines_in_markdown() -> None:
    assert lines("a", "", "b") == "a  \nb"
