"""The stand-in without the network: an aiogram session that hands each call to the stand-in in
the same process, with the parameters encoded as aiogram encodes them for HTTP (so the world
decodes and checks the same values), and turns the answer into what aiogram returns or raises.
For tests that make thousands of calls (the property-based fuzzer), where a socket per call
would cost more than the bot itself.

    standin = StandIn()
    bot = Bot(standin.token, session=InProcessSession(standin))
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from standin.files import Upload
from standin.params import decode_value
from standin.server import TIMEOUT, StandIn

if TYPE_CHECKING:
    from aiogram import Bot


class InProcessSession(BaseSession):
    def __init__(self, standin: StandIn) -> None:
        super().__init__()
        self.standin = standin

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        values: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:  # as aiogram's form data: empty values are not sent
                values[key] = decode_value(key, prepared)
        uploads = {
            key: Upload(file.filename or key, "application/octet-stream", await _read(file, bot))
            for key, file in files.items()
        }
        call = await self.standin.call_in_process(bot.token, method.__api_method__, values, uploads)
        if call.status == TIMEOUT:
            raise TelegramNetworkError(method=method, message="Request timeout error")
        body = {"ok": True, "result": call.result} if call.ok else call.error
        response = self.check_response(
            bot=bot, method=method, status_code=call.status, content=json.dumps(body)
        )
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        path = url.rsplit("/file/bot", 1)[-1].partition("/")[2]
        stored = self.standin.files.by_path(path)
        if stored is None:
            raise TelegramNetworkError(
                method=cast(TelegramMethod[Any], None), message="file not found"
            )
        yield stored.content()

    async def close(self) -> None:
        return None


async def _read(file: InputFile, bot: Bot) -> bytes:
    return b"".join([chunk async for chunk in file.read(bot)])
