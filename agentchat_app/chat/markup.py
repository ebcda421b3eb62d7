"""Message text as the Markdown the browser renders (pure, unit tested).

Everyone's messages, people's and agents', go through the same safe Markdown renderer
(``components/rich_text.py``: no raw HTML, no fetched images).  Before that, two things a chat
needs and plain Markdown does not do:

- a line break the sender typed stays a line break (Markdown would join the lines into one
  paragraph): each newline outside code becomes a hard break;
- ``@name`` becomes a link to ``#mention-name`` (``#mention-me-name`` for the reader), which
  the renderer shows as a highlighted name, not as a link.

Code (fenced blocks and inline spans) is left exactly as typed.
"""

from __future__ import annotations

import re

from agentchat_client.protocol import MENTION_RE

__all__ = ["to_markdown", "needs_markdown", "MENTION_HREF", "MENTION_ME_HREF"]

MENTION_HREF = "#mention-"
MENTION_ME_HREF = "#mention-me-"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)
_MARKUP = re.compile(r"[*_`\[\]#|~\\&<\n]|://|www\.|^\s{0,3}(?:[-+>]|\d+[.)])\s")
"""What could make Markdown differ from the plain text: emphasis, code, links, headings, tables,
line breaks, entities, URLs, and lists or quotes (which only start a line)."""


def needs_markdown(text: str) -> bool:
    """False for plain words (most chat lines): they are shown as text and mention runs, which
    costs the browser far less than a Markdown renderer per message."""
    return _MARKUP.search(text) is not None


def to_markdown(text: str, me: str) -> str:
    """``text`` with hard line breaks and mention links, code untouched."""
    out: list[str] = []
    prose: list[str] = []
    fence = ""
    for line in text.split("\n"):
        if fence:
            out.append(line)
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = ""
            continue
        opening = _FENCE.match(line)
        if opening:
            _flush(prose, out, me)
            fence = opening.group(1)
            out.append(line)
            continue
        prose.append(line)
    _flush(prose, out, me)
    return "\n".join(out)


def _flush(prose: list[str], out: list[str], me: str) -> None:
    """Prose lines joined with hard breaks (a blank line still separates paragraphs)."""
    if not prose:
        return
    text = "\n".join(prose)
    pieces: list[str] = []
    pos = 0
    for code in _INLINE_CODE.finditer(text):
        pieces.append(_prose(text[pos:code.start()], me))
        pieces.append(code.group(0))
        pos = code.end()
    pieces.append(_prose(text[pos:], me))
    out.append("".join(pieces))
    prose.clear()


def _prose(text: str, me: str) -> str:
    text = _mentions(text, me)
    # "a\nb" -> "a  \nb" (a hard break); a blank line still separates paragraphs.
    return re.sub(r"([^\n])[ \t]*\n(?=[^\n])", r"\1  \n", text)


def _mentions(text: str, me: str) -> str:
    def link(match: re.Match[str]) -> str:
        name = match.group(1).rstrip("-")
        rest = match.group(0)[1 + len(name):]
        word = re.split(r"\s", text[: match.start()])[-1]  # the word the "@" is part of
        if word.endswith(("[", "\\", "/")) or "://" in word or "](" in word or word.startswith("www."):
            return match.group(0)  # inside a link, a URL or escaped: not a mention
        href = (MENTION_ME_HREF if name == me else MENTION_HREF) + name
        return f"[@{name}]({href}){rest}"

    return MENTION_RE.sub(link, text)
