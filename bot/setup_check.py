"""Is the desk set up in Telegram? `python -m bot check` and the bot at start ask Telegram
(getMe, getChat, getChatMember for the bot itself in the operator group and the managers'
chat) and say, in plain words, what is right and what is missing. A fatal finding means the
desk cannot work (the command exits 1); a warning means something works worse than it could.

What the desk needs in the operator group: to post cards and alerts (a member may), to see the
operators' answers (replies to its messages and commands reach a bot even in privacy mode; an
administrator sees every message), and in a forum group to create a topic per request (an
administrator with the right to manage topics)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramUnauthorizedError
from aiogram.types import ChatMemberAdministrator, User

from bot.i18n import DeskI18n
from bot.settings import Settings
from bot.vocabulary import N_

log = logging.getLogger(__name__)

Level = Literal["ok", "warning", "fatal"]
OPERATORS = "OPERATOR_CHAT_ID"
MARKS = {"ok": "✅", "warning": "⚠️", "fatal": "❌"}


@dataclass(frozen=True)
class Finding:
    level: Level
    message_id: str
    params: dict[str, object] = field(default_factory=dict)

    def text(self, i18n: DeskI18n, lang: str) -> str:
        return f"{MARKS[self.level]} {i18n.t(self.message_id, lang, **self.params)}"


@dataclass
class SetupReport:
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Level, message_id: str, **params: object) -> None:
        self.findings.append(Finding(level, message_id, params))

    @property
    def fatal(self) -> bool:
        return any(f.level == "fatal" for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level != "ok"]


async def check_setup(bot: Bot, settings: Settings) -> SetupReport:
    report = SetupReport()
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        report.add("fatal", N_("check.token_wrong"))
        return report
    except Exception as exc:
        report.add("fatal", N_("check.unreachable"), error=type(exc).__name__)
        return report
    report.add("ok", N_("check.bot_ok"), username=me.username or me.first_name)
    if settings.operator_chat_id is None:
        report.add("fatal", N_("check.no_operator_chat"))
    else:
        await _check_chat(bot, me, settings.operator_chat_id, "OPERATOR_CHAT_ID", report, True)
    if settings.manager_chat_id is not None:
        await _check_chat(bot, me, settings.manager_chat_id, "MANAGER_CHAT_ID", report, False)
    elif not settings.manager_ids:
        report.add("warning", N_("check.no_managers"))
    return report


async def _check_chat(
    bot: Bot, me: User, chat_id: int, setting: str, report: SetupReport, operators: bool
) -> None:
    problem: Level = "fatal" if operators else "warning"
    try:
        chat = await bot.get_chat(chat_id)
    except (TelegramBadRequest, TelegramForbiddenError):
        report.add(problem, N_("check.chat_unknown"), setting=setting, chat_id=chat_id)
        return
    except Exception as exc:
        report.add("fatal", N_("check.unreachable"), error=type(exc).__name__)
        return
    if chat.type not in ("group", "supergroup"):
        report.add(problem, N_("check.chat_not_group"), setting=setting, chat_id=chat_id)
        return
    try:
        member = await bot.get_chat_member(chat_id, me.id)
    except Exception as exc:
        report.add(problem, N_("check.unreachable"), error=type(exc).__name__)
        return
    if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.KICKED):
        report.add(problem, N_("check.not_member"), setting=setting, chat_id=chat_id)
        return
    if not operators:
        report.add("ok", N_("check.managers_ok"), chat_id=chat_id)
        return
    admin = isinstance(member, ChatMemberAdministrator)
    if chat.is_forum:
        if not isinstance(member, ChatMemberAdministrator) or not member.can_manage_topics:
            report.add("fatal", N_("check.no_topics_right"), chat_id=chat_id)
            return
        report.add("ok", N_("check.forum_ok"), chat_id=chat_id)
        return
    if admin:
        report.add("ok", N_("check.admin_ok"), chat_id=chat_id)
    elif not me.can_read_all_group_messages:
        report.add("warning", N_("check.privacy_on"), chat_id=chat_id)
    else:
        report.add("ok", N_("check.member_ok"), chat_id=chat_id)


async def announce_setup(bot: Bot, settings: Settings, i18n: DeskI18n) -> SetupReport | None:
    """At start: log what is missing and, where the group can be reached, say it there. A
    failing check never stops the bot."""
    try:
        report = await check_setup(bot, settings)
    except Exception as exc:
        log.warning("the setup check failed (%r)", exc)
        return None
    lang = settings.desk_language
    if not report.problems:
        log.info("setup check passed")
        return report
    for finding in report.problems:
        line = i18n.t(finding.message_id, lang, **finding.params)
        if finding.level == "fatal":
            log.error("setup: %s", line)
        else:
            log.warning("setup: %s", line)
    reachable = not any(
        f.message_id in UNREACHABLE and f.params.get("setting", OPERATORS) == OPERATORS
        for f in report.findings
    )
    if settings.operator_chat_id is not None and reachable:
        lines = [i18n.t("check.title_problems", lang)]
        lines += [f.text(i18n, lang) for f in report.problems]
        try:
            await bot.send_message(settings.operator_chat_id, "\n".join(lines))
        except Exception as exc:
            log.warning("could not tell the operator group what is missing (%r)", exc)
    return report


UNREACHABLE = frozenset(
    {
        N_("check.token_wrong"),
        N_("check.unreachable"),
        N_("check.no_operator_chat"),
        N_("check.chat_unknown"),
        N_("check.chat_not_group"),
        N_("check.not_member"),
    }
)
