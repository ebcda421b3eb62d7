from agentchat_client.message import MessageParser, ParsedMessage  # noqa: F401 - the design document's import path (tests/test_manager.py)
