"""Settings from the environment and an optional `.env` file, validated once at start."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.vocabulary import DEFAULT_TOPICS

PUBLIC_API_URL = "https://api.telegram.org"
DEFAULT_WEB_PORT = 8080
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    operator_chat_id: int | None = None
    manager_chat_id: int | None = None
    manager_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # The request topics offered to clients, in order; each needs a label "topic.<key>" in
    # both catalogues.
    desk_topics: Annotated[tuple[str, ...], NoDecode] = DEFAULT_TOPICS
    database_url: str = "sqlite+aiosqlite:///crpt_desk.db"
    redis_url: str | None = None
    telegram_api_url: str = PUBLIC_API_URL
    desk_timezone: str = "Asia/Tashkent"
    desk_language: str = "ru"
    sla_policy_file: Path | None = None
    # Operators answer as "the support service" unless the desk shows their names.
    operator_names_visible: bool = False
    # The quality guard on operators' answers (bot.guard): QUALITY_GUARD=off sends every
    # answer as written.
    quality_guard: bool = True
    # A client's message reopens a resolved request within this many hours.
    reopen_window_hours: int = Field(default=72, ge=0)
    # An outgoing message that has failed this many tries, or has been failing this long, is
    # given up (a dead letter) and reported to the operators.
    outbox_max_attempts: int = Field(default=12, ge=1)
    outbox_max_age_hours: float = Field(default=24, gt=0)
    # The managers' daily digest: at this time of the desk's zone, on its working days.
    digest_time: time = time(9, 0)
    # A resolved request the client never came back to closes itself after this many working
    # days; delivered outbox rows are kept this many days.
    auto_close_working_days: int = Field(default=3, ge=1)
    outbox_keep_days: int = Field(default=30, ge=1)
    # At most this many updates are handled at once (different chats; one chat's in order):
    # keep it below the database pool (5 + 10 overflow by default) less what the delivery
    # worker and the scheduler use. Handled updates are kept this many days in the inbox.
    inbox_concurrency: int = Field(default=10, ge=1)
    inbox_keep_days: int = Field(default=2, ge=1)
    # How updates arrive: long polling (the default) or a webhook Telegram calls at
    # WEBHOOK_URL, checked with WEBHOOK_SECRET (Telegram's X-Telegram-Bot-Api-Secret-Token).
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # The web server (the webhook, /healthz, /metrics): always in webhook mode (port 8080 unless
    # set), in polling mode only when WEB_PORT is set.
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(default=None, ge=1, le=65535)
    # The personal data of requests closed this many days ago is removed by the daily
    # housekeeping (bot.services.privacy); unset, it is kept.
    data_retention_days: int | None = Field(default=None, ge=1)
    # At start the bot checks its rights in Telegram (as `python -m bot check` does) and says
    # what is missing in its log and in the operator group.
    setup_check: bool = True
    log_level: str = "INFO"

    @field_validator("manager_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("desk_topics", mode="before")
    @classmethod
    def _split_topics(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
        if not value:
            raise ValueError("at least one topic is needed")
        return value

    @field_validator("desk_timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("digest_time")
    @classmethod
    def _local_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a time of the desk's zone (DESK_TIMEZONE), without an offset")
        return value

    @field_validator("desk_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("ru", "uz"):
            raise ValueError("must be ru or uz")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("sla_policy_file")
    @classmethod
    def _policy_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file {value} does not exist")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's secret_token: 1-256 characters, A-Z, a-z, 0-9, _ and -.
        if value is not None and not _SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.bot_mode == "webhook":
            if not self.webhook_url or not self.webhook_url.startswith("https://"):
                raise ValueError("BOT_MODE=webhook needs WEBHOOK_URL, an https:// address")
            if self.webhook_secret is None:
                raise ValueError("BOT_MODE=webhook needs WEBHOOK_SECRET")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.desk_timezone)

    @property
    def web_address(self) -> tuple[str, int] | None:
        """Where the web server listens, or None when it does not run."""
        if self.web_port is not None:
            return self.web_host, self.web_port
        if self.bot_mode == "webhook":
            return self.web_host, DEFAULT_WEB_PORT
        return None


def load_settings(**overrides: object) -> Settings:
    """Read the settings; on a wrong value raise SettingsError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("; ".join(lines)) from None
