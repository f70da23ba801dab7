"""Numbers read from what people type and from button data, strictly: ASCII digits only and
bounded at parse time. str.isdigit() also takes "²", "١٢" and "𝟏" (int() refuses some and reads
others), and a forged button may carry a number past 64 bits, which SQLite cannot bind and
PostgreSQL refuses; either would fail the update instead of getting a polite "not found"."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import Field

# Request numbers and row ids are Integer columns: 32 bits on PostgreSQL.
ID_MAX: Final = 2**31 - 1

_DIGITS: Final = re.compile(r"[0-9]{1,10}")
_NUMBER_MARKS: Final = "#№"

# A field of button data that holds a row id or a request number.
BoundedId = Annotated[int, Field(ge=0, le=ID_MAX)]


def whole_number(raw: str | None, *, limit: int = ID_MAX) -> int | None:
    """The number `raw` spells in ASCII digits (surrounding spaces allowed), at most `limit`;
    None for anything else."""
    if raw is None:
        return None
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= limit else None


def request_number(raw: str | None) -> int | None:
    """A request's number as people write it: 1042, #1042, №1042, № 1042."""
    if raw is None:
        return None
    return whole_number(raw.strip().lstrip(_NUMBER_MARKS))
