"""A retried ``message`` (same client id, same person) is stored once: the memory and the server."""

from __future__ import annotations

from server.core.sent_ids import IN_FLIGHT, SentIds
from tests.support import ServerProcess, connect_as


def test_claim_then_posted_then_repeat_is_known() -> None:
    sent = SentIds()
    assert sent.claim("alice", 7) is None
    assert sent.claim("alice", 7) == IN_FLIGHT
    sent.posted("alice", 7, 41)
    assert sent.claim("alice", 7) == 41
    assert sent.claim("bob", 7) is None  # per person: bob's 7 is another message
    assert sent.claim("alice", None) is None and sent.claim("alice", None) is None  # no id: never deduped


def test_the_same_id_with_other_content_is_a_new_message() -> None:
    sent = SentIds()
    assert sent.claim("agent", "a-1", "hello") is None
    sent.posted("agent", "a-1", 10)
    assert sent.claim("agent", "a-1", "hello") == 10
    assert sent.claim("agent", "a-1", "numbering restarted: another text") is None


def test_a_refused_message_may_be_retried() -> None:
    sent = SentIds()
    assert sent.claim("alice", "x") is None
    sent.release("alice", "x")
    assert sent.claim("alice", "x") is None


def test_memory_is_bounded_per_person_and_in_people() -> None:
    sent = SentIds(per_person=3, people=2)
    for client_id in range(5):
        sent.claim("alice", client_id)
        sent.posted("alice", client_id, 100 + client_id)
    assert sent.claim("alice", 4) == 104
    assert sent.claim("alice", 0) is None  # forgotten: the oldest went first
    sent.claim("bob", 1)
    sent.claim("carol", 1)  # three people: the least recent (alice) is forgotten
    assert sent.claim("alice", 4) is None
    assert sent.claim("carol", 1) == IN_FLIGHT


async def test_a_retry_after_reconnecting_is_not_posted_twice(server: ServerProcess) -> None:
    alice = await connect_as(server.url, "dedupe-alice")
    bob = await connect_as(server.url, "dedupe-bob")
    first = await alice.say("only once please", id=990001)
    assert (await bob.expect("message", clientId=990001))["id"] == first["id"]
    await alice.close()

    # The echo was lost with the connection: the client sends the same frame again.
    again = await connect_as(server.url, "dedupe-alice", last_message_id=first["id"])
    await again.send("message", {"id": 990001, "text": "only once please"})
    confirmed = await again.expect("message", clientId=990001)
    assert confirmed["id"] == first["id"] and confirmed["sender"] == "dedupe-alice"

    after = await again.say("the next one", id=990002)
    assert after["id"] > first["id"]
    await bob.expect("message", clientId=990002)  # what bob got before it waits in the backlog
    assert not [f for f in bob.backlog if f["type"] == "message" and f["data"].get("clientId") == 990001]

    await again.send("history", {"limit": 20})
    page = await again.expect("history")
    texts = [m["data"]["text"] for m in page["messages"]]
    assert texts.count("only once please") == 1
    await again.close()
    await bob.close()


async def test_the_same_client_id_from_another_person_is_their_own_message(server: ServerProcess) -> None:
    carl = await connect_as(server.url, "dedupe-carl")
    dana = await connect_as(server.url, "dedupe-dana")
    await carl.send("message", {"id": "shared-id", "text": "carl's"})
    one = await carl.expect("message", clientId="shared-id", sender="dedupe-carl")
    await dana.send("message", {"id": "shared-id", "text": "dana's"})
    two = await dana.expect("message", clientId="shared-id", sender="dedupe-dana")
    assert one["id"] != two["id"] and two["sender"] == "dedupe-dana"
    await carl.close()
    await dana.close()
