"""The stand-in on the network: an aiohttp application answering the Bot API at
`{url}/bot{token}/{method}` and serving files at `{url}/file/bot{token}/{path}`, over the world
(`World` + `Actions`), with the record of every call, injected faults and waiting helpers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from standin.actions import Actions
from standin.errors import (
    ApiError,
    bad_request,
    conflict,
    default_description,
    method_not_found,
    unauthorized,
)
from standin.files import Upload
from standin.methods import handler_for
from standin.objects import JSON
from standin.params import Params, decode_value, describe_upload, summarize_uploads
from standin.world import ANY_THREAD

log = logging.getLogger(__name__)

_MAX_BODY = 60 * 1024 * 1024
_QUIET = 0.2  # idle(): no request for this long
_MINUTE = 60.0  # limit_rate(): the window of Telegram's flood control
_SUPERSEDED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
_WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)


@dataclass
class Call:
    """One request the bot made, as answered."""

    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None  # the error body: error_code, description, parameters
    status: int = 200
    time: float = field(default_factory=time.time)

    @property
    def description(self) -> str | None:
        return self.error["description"] if self.error else None

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}({args}) -> {outcome}"


# A fault "status" for a call that gets no answer at all: nothing is done and the connection is
# dropped, so the bot sees a network error, as after a timeout.
TIMEOUT = 0


@dataclass
class Fault:
    method: str
    status: int
    times: int
    retry_after: int | None
    description: str | None
    chat_id: int | None

    def matches(self, method: str, params: Params) -> bool:
        if method.lower() != self.method.lower():
            return False
        return self.chat_id is None or params.opt_int("chat_id") == self.chat_id

    def error(self) -> ApiError:
        if self.status == TIMEOUT:
            return ApiError(TIMEOUT, "no answer (the connection was dropped)")
        retry = self.retry_after if self.status == 429 else None
        description = self.description or default_description(self.status, retry)
        return ApiError(self.status, description, {"retry_after": retry} if retry else None)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class WebhookPost:
    """One POST of an update to the bot's webhook: where, which update, the HTTP status
    (0: no answer)."""

    target: str
    update_id: int
    status: int


class StandIn(Actions):
    """A local Telegram Bot API for one bot. Build the world (add_user, add_group, ...), start
    it, point the bot at `url`, act as users (send_message, press, ...) and look at what the
    bot did (sent, last, calls, callback_answers)."""

    def __init__(
        self,
        *,
        token: str = "123456789:STANDIN-token",
        bot_username: str = "CRPT_Turon_Bot",
        privacy_mode: bool = True,
        max_poll_timeout: float = 1.0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(token=token, bot_username=bot_username, privacy_mode=privacy_mode)
        if latency < 0:
            raise ValueError("latency must not be negative")
        self.calls: list[Call] = []
        # Seconds every Bot API call waits before it is answered (a real network: Telegram is
        # not 1 ms away); getUpdates waits too, before it looks for updates.
        self.latency = latency
        self.url = ""
        self.max_poll_timeout = max_poll_timeout
        self._faults: list[Fault] = []
        self._rates: dict[int, tuple[int, deque[float]]] = {}
        self._runner: web.AppRunner | None = None
        self._update_event = asyncio.Event()
        self._poll_generation = 0
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._closing = False
        # Webhook mode (setWebhook with a URL): updates are POSTed, as Telegram does, with the
        # secret token header, up to max_connections at once, again after a failure until the
        # bot answers 2xx. The registered URL must be https (as Telegram wants); the posts go
        # to `webhook_targets` instead (local http addresses, in turn: a load balancer), or to
        # the URL itself when none is set. Every post is recorded in `webhook_posts`.
        self.webhook_targets: list[str] = []
        self.webhook_posts: list[WebhookPost] = []
        self.webhook_retry = 0.1
        self._pusher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ lifecycle

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0: any free one); returns the base url "http://127.0.0.1:PORT"."""
        if self._runner is not None:
            raise RuntimeError("the stand-in is already running")
        self._closing = False
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self.url = f"http://{host}:{runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._update_event.set()
        if self._pusher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pusher, 5)
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ faults

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: int | None = 1,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (only for `chat_id` if given) answer this error
        and change nothing. 429 carries parameters.retry_after (aiogram: TelegramRetryAfter);
        other statuses carry no parameters, whatever retry_after says. `status=TIMEOUT` answers
        nothing: the connection is dropped (aiogram: TelegramNetworkError, as on a timeout)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(Fault(method, status, times, retry_after, description, chat_id))

    def limit_rate(self, chat_id: int, per_minute: int = 20) -> None:
        """Telegram's flood control for one chat: calls that post or change something there
        (anything but get*) beyond `per_minute` within a minute answer 429, with retry_after
        the seconds until the oldest of them leaves the minute."""
        self._rates[chat_id] = (per_minute, deque())

    def _take_flood(self, method: str, params: Params) -> ApiError | None:
        if not self._rates or method.lower().startswith("get"):
            return None
        value = params.values.get("chat_id")
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        try:
            chat_id = int(value)
        except ValueError:
            return None
        if chat_id not in self._rates:
            return None
        limit, stamps = self._rates[chat_id]
        now = time.monotonic()
        while stamps and now - stamps[0] >= _MINUTE:
            stamps.popleft()
        if len(stamps) >= limit:
            retry = max(1, math.ceil(_MINUTE - (now - stamps[0])))
            return ApiError(429, default_description(429, retry), {"retry_after": retry})
        stamps.append(now)
        return None

    def _take_fault(self, method: str, params: Params) -> ApiError | None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault.error()
        return None

    # ------------------------------------------------------------ looking at calls

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def unknown_methods(self) -> list[str]:
        """Methods the bot called that the stand-in does not implement (answered 404)."""
        names = (c.method for c in self.calls if c.status == 404 and c.error is not None)
        return sorted(set(names))

    def _trail(self) -> str:
        calls = [c for c in self.calls if not (c.method.lower() == "getupdates" and c.ok)]
        lines = [f"\n  {call}" for call in calls[-12:]] or ["\n  (none)"]
        text = "\nlast API calls (without successful getUpdates):" + "".join(lines)
        text += f"\nupdates not yet fetched by the bot: {len(self.pending_updates())}"
        if self.unknown_methods:
            text += f"\nmethods the stand-in does not know: {', '.join(self.unknown_methods)}"
        return text

    # ------------------------------------------------------------ waiting

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Poll the world until predicate() is truthy and return its value. A predicate that
        raises LookupError or AssertionError counts as not yet true."""
        deadline = time.monotonic() + timeout
        problem = ""
        while True:
            try:
                value = predicate()
            except (LookupError, AssertionError) as exc:
                value, problem = None, f" (last: {type(exc).__name__}: {exc})"
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s{problem}{self._trail()}")
            await asyncio.sleep(0.01)

    async def wait_sent(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        thread_id: int | None = ANY_THREAD,
    ) -> list[JSON]:
        """Until the bot has at least `count` messages in the chat (topic); returns them all."""

        def enough() -> list[JSON] | None:
            posted = self.sent(chat_id, thread_id=thread_id)
            return posted if len(posted) >= count else None

        try:
            result: list[JSON] = await self.wait_for(enough, timeout)
        except TimeoutError as exc:
            have = len(self.sent(chat_id, thread_id=thread_id))
            message = f"expected {count} bot messages in {chat_id}, have {have}; {exc}"
            raise TimeoutError(message) from None
        return result

    async def idle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until every queued update was fetched by the bot and no request came for 0.2 s
        (best effort: work the bot does without calling the API is invisible here)."""
        deadline = time.monotonic() + timeout
        while not self._is_idle():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot did not settle within {timeout}s{self._trail()}")
            await asyncio.sleep(0.01)

    def _is_idle(self) -> bool:
        quiet = time.monotonic() - self._last_activity >= _QUIET
        return quiet and self._inflight == 0 and not self.pending_updates()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _on_update(self) -> None:
        self._touch()
        self._update_event.set()
        self._ensure_pusher()

    # ------------------------------------------------------------ webhook

    def _ensure_pusher(self) -> None:
        if not self.settings["webhook"] or self._closing:
            return
        if self._pusher is None or self._pusher.done():
            with contextlib.suppress(RuntimeError):  # no running loop: the next update starts it
                self._pusher = asyncio.get_running_loop().create_task(self._push())

    def _webhook_target(self, turn: int) -> str:
        hook: str = self.settings["webhook"]
        if not self.webhook_targets:
            return hook
        path = urlsplit(hook).path or "/"
        return self.webhook_targets[turn % len(self.webhook_targets)].rstrip("/") + path

    async def _push(self) -> None:
        import aiohttp

        inflight: dict[int, asyncio.Task[None]] = {}
        retry_at: dict[int, float] = {}
        turn = 0
        async with aiohttp.ClientSession() as client:
            while not self._closing and self.settings["webhook"]:
                self._update_event.clear()
                limit = int(self.settings.get("webhook_max_connections") or 40)
                now = time.monotonic()
                for update in self.undelivered():
                    update_id = update["update_id"]
                    if len(inflight) >= limit:
                        break
                    if update_id in inflight or retry_at.get(update_id, 0) > now:
                        continue
                    target = self._webhook_target(turn)
                    turn += 1
                    inflight[update_id] = asyncio.create_task(
                        self._post(client, target, update, retry_at)
                    )
                waker = asyncio.ensure_future(self._update_event.wait())
                await asyncio.wait(
                    [*inflight.values(), waker],
                    timeout=self.webhook_retry,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waker.cancel()
                for update_id, task in list(inflight.items()):
                    if task.done():
                        del inflight[update_id]
            for task in inflight.values():
                task.cancel()
            await asyncio.gather(*inflight.values(), return_exceptions=True)

    async def _post(
        self, client: Any, target: str, update: JSON, retry_at: dict[int, float]
    ) -> None:
        import aiohttp

        headers = {}
        if self.settings.get("webhook_secret"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.settings["webhook_secret"]
        update_id = update["update_id"]
        self._inflight += 1
        status, error = 0, ""
        try:
            async with client.post(
                target, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            error = f"Connection failed: {exc!r}"
        finally:
            self._inflight -= 1
            self._touch()
        self.webhook_posts.append(WebhookPost(target, update_id, status))
        if 200 <= status < 300:
            self.confirm_delivered(update_id)
            retry_at.pop(update_id, None)
            return
        self.settings["webhook_error"] = (
            int(time.time()),
            error or f"Wrong response from the webhook: {status}",
        )
        retry_at[update_id] = time.monotonic() + self.webhook_retry

    # ------------------------------------------------------------ HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        polling = method.lower() == "getupdates"
        if not polling:
            self._inflight += 1
            self._touch()
        try:
            call = await self._call(request, method)
        finally:
            self._inflight -= not polling
        if not polling or call.result:
            self._touch()
        self.calls.append(call)
        if call.status == TIMEOUT and request.transport is not None:
            request.transport.close()
            return web.Response(status=504)  # never reaches the bot
        body = {"ok": True, "result": call.result} if call.ok else call.error
        return web.json_response(body, status=call.status)

    async def _call(self, request: web.Request, method: str) -> Call:
        try:
            values, uploads = await _read_params(request)
        except ApiError as error:
            return Call(method, {}, ok=False, status=error.status, error=error.body())
        return await self._perform(request.match_info["token"], method, values, uploads)

    async def call_in_process(
        self, token: str, method: str, values: dict[str, Any], uploads: dict[str, Upload]
    ) -> Call:
        """A call from a bot in this process (standin.inprocess): answered, faulted and
        recorded as one that came over HTTP, without a socket."""
        call = await self._perform(token, method, values, uploads)
        self.calls.append(call)
        return call

    async def _perform(
        self, token: str, method: str, values: dict[str, Any], uploads: dict[str, Upload]
    ) -> Call:
        call = Call(method, {}, ok=True)
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            call.params = _record_params(values, uploads)
            params = Params(values, uploads)
            call.result = await self._answer(token, method, params)
        except ApiError as error:
            call.ok, call.status, call.error = False, error.status, error.body()
        except Exception as exc:  # a bug in the stand-in: answer 500 and say so
            log.exception("stand-in failed on %s", method)
            bug = ApiError(500, f"Internal Server Error: stand-in bug: {exc!r}")
            call.ok, call.status, call.error = False, 500, bug.body()
        return call

    async def _answer(self, token: str, method: str, params: Params) -> Any:
        if token != self.token:
            raise unauthorized()
        fault = self._take_fault(method, params) or self._take_flood(method, params)
        if fault is not None:
            raise fault
        if method.lower() == "getupdates":
            return await self._get_updates(params)
        handler = handler_for(method)
        if handler is None:
            raise method_not_found()
        result = handler(self, params)
        if method.lower() == "setwebhook":
            self._ensure_pusher()
        return result

    async def _get_updates(self, p: Params) -> list[JSON]:
        """Long polling: answer at once when updates are queued, else wait up to `timeout`
        (capped by max_poll_timeout). A newer getUpdates ends an older one with 409."""
        if self.settings["webhook"]:
            raise conflict(_WEBHOOK_ACTIVE)
        if "allowed_updates" in p:
            self.allowed_updates = p.opt_list("allowed_updates") or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_event.set()  # wakes an older poll, which then sees it was superseded
        offset, limit = p.opt_int("offset"), p.opt_int("limit") or 100
        wait = min(max(p.opt_int("timeout") or 0, 0), self.max_poll_timeout)
        deadline = time.monotonic() + wait
        while True:
            self._update_event.clear()
            batch = self.take_updates(offset, limit)
            remaining = deadline - time.monotonic()
            if batch or self._closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), remaining)
            if generation != self._poll_generation:
                raise conflict(_SUPERSEDED)

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        call = Call("downloadFile", {"file_path": path}, ok=True)
        self.calls.append(call)
        stored = self.files.by_path(path) if request.match_info["token"] == self.token else None
        if stored is None:
            call.ok, call.status = False, 404
            call.error = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(call.error, status=404)
        call.result = {"size": stored.size}
        return web.Response(body=stored.content(), content_type="application/octet-stream")


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Query string plus the body: JSON, urlencoded or multipart (file parts become Uploads)."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("a JSON request body must be an object")
            raw |= body
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
    return {key: decode_value(key, value) for key, value in raw.items()}, uploads


def _record_params(values: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """The params for the call record: uploads shown as {filename, content_type, size}."""
    record = summarize_uploads(values, uploads)
    text = repr(values)
    for name, upload in uploads.items():
        if f"attach://{name}" not in text:
            record[name] = describe_upload(upload)
    assert isinstance(record, dict)
    return record
