"""The bounded message window a browser session keeps."""

from __future__ import annotations

from agentchat_app.chat.models import ChatMessage
from agentchat_app.chat.window import Window


def msg(i: int, **kw) -> ChatMessage:
    return ChatMessage(key=f"m{i}", id=i, text=f"t{i}", **kw)


def ids(window: Window) -> list[int]:
    return [m.id for m in window.messages]


def test_live_messages_push_the_oldest_out():
    window = Window(messages=[], cap=3)
    window.reset([msg(1), msg(2)], has_more=False)
    for i in (3, 4):
        assert window.add(msg(i))
    assert ids(window) == [2, 3, 4] and window.has_more


def test_duplicates_are_ignored_and_late_ones_go_in_order():
    window = Window(messages=[], cap=10)
    window.reset([msg(1), msg(3)], has_more=False)
    assert not window.add(msg(3))
    assert window.add(msg(2))
    assert ids(window) == [1, 2, 3]


def test_loading_earlier_pages_detaches_from_the_live_end_when_full():
    window = Window(messages=[], cap=4)
    window.reset([msg(5), msg(6), msg(7)], has_more=True)
    window.add_earlier([msg(3), msg(4)], has_more=True)
    assert ids(window) == [3, 4, 5, 6] and window.detached
    assert not window.add(msg(8))  # not shown until "Jump to latest"
    window.reset([msg(6), msg(7), msg(8)], has_more=True)
    assert ids(window) == [6, 7, 8] and not window.detached


def test_stream_grows_then_the_final_answer_replaces_it():
    window = Window(messages=[], cap=10)
    template = ChatMessage(sender="writer", is_agent=True)
    window.stream_delta("s1", "Hel", template)
    window.stream_delta("s1", "lo", template)
    assert [(m.key, m.text, m.streaming) for m in window.streams] == [("ss1", "Hello", True)]
    assert window.add(msg(9, stream_id="s1", sender="writer"))
    assert window.streams == [] and ids(window) == [9]


def test_display_split_moves_in_steps_so_a_new_message_changes_only_the_recent_part():
    from agentchat_app.chat.window import split_for_display

    assert split_for_display([msg(i) for i in range(10)], chunk=25) == 0
    assert split_for_display([msg(i) for i in range(25)], chunk=25) == 0
    assert split_for_display([msg(i) for i in range(26)], chunk=25) == 25
    assert split_for_display([msg(i) for i in range(50)], chunk=25) == 25
    assert split_for_display([msg(i) for i in range(51)], chunk=25) == 50


def test_trimming_happens_in_steps():
    window = Window(messages=[], cap=100)
    window.reset([msg(i) for i in range(1, 101)], has_more=False)
    window.add(msg(101))
    first = window.messages[0].id
    assert len(window.messages) == 75 and window.has_more
    for i in range(102, 110):
        window.add(msg(i))
    assert window.messages[0].id == first  # no shift for the next few
