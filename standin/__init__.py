"""A local stand-in for the Telegram Bot API, for end-to-end tests and the demo.

    standin = StandIn()
    standin.add_user(1001, "Aziz")
    url = await standin.start()
    bot = Bot(standin.token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    standin.send_message(1001, text="/start")
    await standin.wait_sent(1001, 1)

Layers: `world` (the in-memory state and the update queue), `actions` (what users do),
`methods` (what the Bot API methods do), `server` (HTTP, call records, faults, waiting)."""

from standin.errors import ApiError
from standin.files import Upload
from standin.server import TIMEOUT, Call, StandIn
from standin.world import ANY_THREAD

__all__ = ["ANY_THREAD", "TIMEOUT", "ApiError", "Call", "StandIn", "Upload"]
