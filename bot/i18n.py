"""Translations: gettext catalogues under locales/, compiled in memory with Babel at start,
and Babel formatting of dates and times for a locale."""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.units import format_unit

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("ru", "uz")
BABEL_LOCALES = {"ru": "ru", "uz": "uz_Latn"}
# Uzbek writes the day with a hyphen: "23-mart".
DAY_MONTH_PATTERNS = {"ru": "d MMMM", "uz": "d-MMMM"}
# Typography: a number and its unit, and "№" and its number, are never split across lines.
NBSP = "\u00a0"


def guess_language(language_code: str | None) -> str:
    """The first guess from Telegram's language_code: uz gives Uzbek, anything else Russian."""
    return "uz" if (language_code or "").lower().startswith("uz") else "ru"


def load_catalog(lang: str, path: Path = LOCALES_DIR) -> gettext.GNUTranslations:
    po = path / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=BABEL_LOCALES[lang])
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class DeskI18n(I18n):
    """aiogram's I18n, reading the .po catalogues directly (no compiled files to keep in step)."""

    def __init__(self, path: Path = LOCALES_DIR, default_locale: str = "ru") -> None:
        super().__init__(path=path, default_locale=default_locale, domain=DOMAIN)

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # A subclass gets a context variable of its own (ContextInstanceMixin), but aiogram's
        # gettext looks up I18n's: set that one.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return {lang: load_catalog(lang, Path(self.path)) for lang in LANGUAGES}

    def t(self, message: str, locale: str, **params: object) -> str:
        text = self.gettext(message, locale=locale)
        return text.format(**params) if params else text


def fmt_day_month(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    """'30 ноября' / '30-noyabr' (the weekday goes through the catalogues, which decline it)."""
    return format_date(
        moment.astimezone(tz).date(), DAY_MONTH_PATTERNS[lang], locale=BABEL_LOCALES[lang]
    )


def fmt_time(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_time(moment.astimezone(tz).time(), "HH:mm", locale=BABEL_LOCALES[lang])


def fmt_datetime(moment: datetime, lang: str, tz: ZoneInfo) -> str:
    """'23.03.2026 10:00' in the desk's zone (the compact form for cards and lists)."""
    local = moment.astimezone(tz)
    return (
        format_date(local.date(), "dd.MM.yyyy", locale=BABEL_LOCALES[lang])
        + " "
        + fmt_time(local, lang, tz)
    )


DURATION_UNITS = (("duration-day", 1440), ("duration-hour", 60), ("duration-minute", 1))


def _unit(value: int, unit: str, lang: str) -> str:
    # CLDR puts a plain space between the number and the unit; it must not break there.
    text = format_unit(value, unit, length="short", locale=BABEL_LOCALES[lang])
    return text.replace(" ", NBSP, 1)


def fmt_duration(delta: timedelta, lang: str, *, round_up: bool = False) -> str:
    """'1 ч 10 мин', '2 дн. 3 ч' / '1 soat 10 daq.': the two largest units, by Babel (CLDR
    short units, a non-breaking space inside each), to the minute (rounded down, or up for a
    time left)."""
    seconds = max(0, int(delta.total_seconds()))
    minutes = -(-seconds // 60) if round_up else seconds // 60
    parts: list[str] = []
    for unit, size in DURATION_UNITS:
        value, minutes = divmod(minutes, size)
        if value and len(parts) < 2:
            parts.append(_unit(value, unit, lang))
        elif parts:
            break  # '1 дн. 10 мин' would skip the hours: the two units stay adjacent
    if not parts:
        return _unit(0, "duration-minute", lang)
    return " ".join(parts)
