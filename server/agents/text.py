"""Writing agent answers: people's words quoted inertly, numbers with the right plural.

Agents answer in Markdown.  Anything an agent repeats from a person (a task title, a file name,
a CSV column) goes through :func:`inert`, so ``[re-login](https://evil.example)`` in a title is
shown as those characters, never as a link, an image or formatting inside the agent's message.
"""

from __future__ import annotations

import re

__all__ = ["inert", "plural", "lines"]

_ALWAYS = re.compile(r"([\\`*_\[\]<~])")
"""Characters that start inline markup anywhere in a line: code, emphasis, links, images, HTML."""
_LINE_START = re.compile(r"^(\s*)(\d*)([#>+=.)-])")
"""Block markup that only counts at the start of a line: headings, quotes, lists."""
_AUTOLINK = re.compile(r"(?i)(?<=\w)(:)(?=//)|(?<=\bwww)(\.)|(?<=\w)(@)(?=\w)")
"""GFM makes links of bare ``https://...``, ``www.`` and ``name@host.tld`` — after escapes are
read, so a backslash does not stop it: an invisible word joiner (U+2060) before the character does."""
WORD_JOINER = "\u2060"


def inert(text: str) -> str:
    """``text`` escaped so Markdown renders it literally: no links, images, emphasis, code, HTML,
    headings or lists, and no bare URL or e-mail address turned into a link.  Mentions stay."""
    flat = " ".join(text.splitlines())
    escaped = _ALWAYS.sub(r"\\\1", flat)
    escaped = _AUTOLINK.sub(lambda m: WORD_JOINER + m.group(0), escaped)
    return _LINE_START.sub(_escape_block_start, escaped, count=1)


def _escape_block_start(match: re.Match[str]) -> str:
    indent, digits, mark = match.groups()
    if digits and mark not in ".)":
        return match.group(0)  # "3-4 people": not a list
    return f"{indent}{digits}\\{mark}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 task``, ``2 tasks``, ``1 entry``/``3 entries`` (give ``many`` when it is not word + s)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def lines(*parts: str) -> str:
    """Lines that stay lines in Markdown (a single newline would join them into one paragraph)."""
    return "  \n".join(p for p in parts if p)
