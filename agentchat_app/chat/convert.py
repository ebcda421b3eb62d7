"""Turn protocol payloads into view models (pure functions, unit tested).

Nothing here produces HTML: message text becomes plain-text segments that components
render as text nodes, which is what keeps ``<script>`` in a message a string.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from agentchat_client.protocol import MENTION_RE

from .models import AttachmentView, ChatMessage, Member, Question, Segment

__all__ = [
    "segments",
    "size_label",
    "short_time",
    "excerpt",
    "to_attachment",
    "to_message",
    "to_member",
    "to_question",
    "mentions_user",
    "usage_label",
    "cost_label",
]

EXCERPT_CHARS = 90


def segments(text: str, me: str) -> list[Segment]:
    """Split ``text`` into plain runs and ``@mentions``; a mention of ``me`` is marked."""
    out: list[Segment] = []
    pos = 0
    for match in MENTION_RE.finditer(text):
        start, end = match.span()
        name = match.group(1).rstrip("-")
        end = start + 1 + len(name)
        if start > pos:
            out.append(Segment(text=text[pos:start]))
        out.append(Segment(text=text[start:end], kind="mention_me" if name == me else "mention"))
        pos = end
    if pos < len(text):
        out.append(Segment(text=text[pos:]))
    return out


def mentions_user(data: dict[str, Any], me: str) -> bool:
    mentions = data.get("mentions") or []
    return me in mentions or any(s.kind == "mention_me" for s in segments(str(data.get("text") or ""), me))


def size_label(size: int) -> str:
    """Human file size: ``512 B``, ``2.0 KB``, ``3.4 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    if size < 1024 * 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / (1024 * 1024 * 1024):.1f} GB"


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def short_time(value: Any) -> str:
    """``HH:MM`` (UTC) for a timestamp, as a fallback when the browser cannot localise it."""
    moment = parse_time(value)
    return moment.strftime("%H:%M") if moment else ""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most ``limit`` characters, for reply quotes."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def to_attachment(item: Any) -> AttachmentView | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return None
    size = item.get("size") if isinstance(item.get("size"), int) else 0
    return AttachmentView(
        id=item["id"],
        name=str(item.get("name") or "file"),
        size=size,
        size_label=size_label(size),
        type=str(item.get("type") or ""),
    )


def to_message(
    data: dict[str, Any],
    *,
    me: str,
    agents: set[str] | frozenset[str],
    is_agent_response: bool,
    quoted: ChatMessage | None = None,
) -> ChatMessage:
    """A stored ``message`` / ``agent_response`` payload as a log entry."""
    text = str(data.get("text") or "")
    sender = str(data.get("sender") or "")
    reply_to = data.get("replyTo") if isinstance(data.get("replyTo"), int) else 0
    attachments = [a for a in (to_attachment(x) for x in data.get("attachments") or []) if a]
    message_id = data.get("id") if isinstance(data.get("id"), int) else 0
    return ChatMessage(
        key=f"m{message_id}",
        id=message_id,
        sender=sender,
        text=text,
        time=short_time(data.get("timestamp")),
        timestamp=str(data.get("timestamp") or ""),
        is_agent=is_agent_response or sender in agents,
        is_mine=sender == me,
        # An agent answering my own message names me; that is the answer I wait for, not news.
        mentions_me=sender != me and mentions_user(data, me)
        and not ((is_agent_response or sender in agents) and quoted is not None and quoted.sender == me),
        segments=segments(text, me),
        reply_to=reply_to or 0,
        reply_sender=quoted.sender if quoted else "",
        reply_excerpt=excerpt(quoted.text) if quoted else ("" if not reply_to else "an earlier message"),
        attachments=attachments,
        streaming=False,
        stream_id=str(data.get("streamId") or ""),
        agent_status=str(data.get("agentStatus") or ""),
        run_id=str(data.get("runId") or ""),
        usage_label=usage_label(data.get("usage")),
    )


def cost_label(cost: float) -> str:
    """``$1.25``; small amounts keep their digits (``$0.0016``); less than a millionth of a dollar is ``<$0.000001``."""
    if cost == 0:
        return "$0"
    if cost >= 0.01:
        return f"${cost:,.2f}"
    shown = f"{cost:.6f}".rstrip("0").rstrip(".")
    return f"${shown}" if shown not in ("0", "") else "<$0.000001"


def usage_label(usage: Any) -> str:
    """An answer's ``usage`` as one quiet line: tokens, cost (when priced) and model."""
    if not isinstance(usage, dict):
        return ""
    total = usage.get("totalTokens")
    if not isinstance(total, int) or isinstance(total, bool):
        return ""
    parts = [f"{total:,} tokens"]
    cost = usage.get("costUsd")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
        parts.append(cost_label(float(cost)))
    if isinstance(usage.get("model"), str) and usage["model"]:
        parts.append(usage["model"])
    return " · ".join(parts)


def last_seen_label(value: Any) -> str:
    moment = parse_time(value)
    return f"last seen {moment.strftime('%Y-%m-%d %H:%M')} UTC" if moment else ""


def to_member(data: dict[str, Any], me: str) -> Member:
    user_id = str(data.get("userId") or "")
    return Member(
        user_id=user_id,
        role=str(data.get("role") or ""),
        is_agent=bool(data.get("isAgent")),
        online=data.get("status") == "online",
        last_seen=last_seen_label(data.get("lastSeen")),
        is_me=user_id == me,
    )


def to_question(data: dict[str, Any], me: str) -> Question:
    choices = [str(c) for c in data.get("choices") or [] if isinstance(c, str)]
    return Question(
        question_id=str(data.get("questionId") or ""),
        agent=str(data.get("agent") or ""),
        to_user=str(data.get("to") or ""),
        text=str(data.get("text") or ""),
        choices=choices,
        state="open",
        for_me=data.get("to") == me,
        time=short_time(data.get("timestamp")),
    )
