"""The chat without sockets, databases or awaits: connection states, rules, routing, questions.

Everything here is pure: it takes what happened (a decoded frame, an event, the time) and the
facts it needs, and returns decisions (frames to send, events to publish, drafts to store,
connections to close).  The asyncio layer in ``server.hub`` only pumps.  The rules are tested in
``tests/core/`` without a socket, a database or an event loop.
"""
