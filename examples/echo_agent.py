"""An agent in its own process: answers every @echo mention.

Needs only the client package (``pip install ./client``), never the server's code:

    python -m server token echo --role agent        # on the server: prints a token
    AGENTCHAT_TOKEN=<token> python examples/echo_agent.py
"""

import asyncio
import os

from agentchat_client import AgentClient, ParsedMessage

agent = AgentClient(os.environ.get("AGENTCHAT_URL", "ws://127.0.0.1:8081/ws"), "echo", os.environ["AGENTCHAT_TOKEN"])


@agent.on_message
async def echo(msg: ParsedMessage) -> None:
    await agent.reply(msg, f"{msg.sender} said: {msg.text}")


if __name__ == "__main__":
    asyncio.run(agent.run())
