"""Message text as rendered Markdown: line breaks kept, mentions marked, code untouched (pure)."""

from __future__ import annotations

from agentchat_app.chat.markup import needs_markdown, to_markdown


def test_a_typed_line_break_stays_a_line_break():
    assert to_markdown("first line\nsecond line", "me") == "first line  \nsecond line"
    assert to_markdown("one\n\ntwo", "me") == "one\n\ntwo"  # a paragraph stays a paragraph
    # the files agent's answer, as it was joined into one line before
    answer = "121 lines (120 data rows), 4 columns\nColumns: a, b, c, d"
    assert to_markdown(answer, "me").split("  \n") == ["121 lines (120 data rows), 4 columns", "Columns: a, b, c, d"]


def test_mentions_become_marked_names_and_mine_is_different():
    assert to_markdown("hi @bob and @me", "me") == "hi [@bob](#mention-bob) and [@me](#mention-me-me)"
    assert to_markdown("@bob-, thanks", "me") == "[@bob](#mention-bob)-, thanks"


def test_code_urls_and_mail_are_left_alone():
    fenced = "```py\nx = 1\n@bob\n```"
    assert to_markdown(fenced + "\nafter @bob", "me") == fenced + "\nafter [@bob](#mention-bob)"
    assert to_markdown("`@bob` ok", "me") == "`@bob` ok"
    assert to_markdown("see https://x.example/@bob", "me") == "see https://x.example/@bob"
    assert to_markdown("mail a@b.example", "me") == "mail a@b.example"
    assert to_markdown("[@bob](https://x.example)", "me") == "[@bob](https://x.example)"


def test_tables_lists_and_quotes_keep_their_shape():
    table = "| a | b |\n|---|---|\n| 1 | 2 |"
    assert to_markdown(table, "me").replace("  \n", "\n") == table
    assert to_markdown("- one\n- two", "me") == "- one  \n- two"
    assert to_markdown("> quoted\n> more", "me") == "> quoted  \n> more"


def test_plain_words_skip_the_markdown_renderer():
    for plain in ("hello @bob, see you at 3", "3-4 people", "a - b", "50% done!", "<3"[1:]):
        assert not needs_markdown(plain), plain
    for rich in ("**bold**", "`x`", "a\nb", "https://x.example", "www.x.example", "- item", "1. first",
                 "> quote", "| a | b |", "# title", "<script>", "&amp;", "[x](y)", "snake_case"):
        assert needs_markdown(rich), rich


def test_an_edit_or_a_deletion_changes_what_is_rendered():
    from agentchat_app.chat.convert import to_message
    from agentchat_app.chat.updates import apply_update

    shown = to_message({"id": 7, "sender": "ann", "text": "plain words"}, me="me", agents=set(),
                       is_agent_response=False)
    assert not shown.rich
    edited = apply_update(shown, {"id": 7, "text": "now **bold**\nand @me", "editedAt": "2026-12-02T10:00:00Z"}, "me")
    assert edited.rich and edited.markdown == "now **bold**  \nand [@me](#mention-me-me)"
    gone = apply_update(edited, {"id": 7, "deleted": True}, "me")
    assert gone.text == gone.markdown == "" and not gone.rich
