"""Text fits its column, whatever a client sent: at the storage boundary every string bound for
a String/Text column loses U+0000 (PostgreSQL refuses it in text) and any lone surrogate (no
UTF-8 for it; U+FFFD instead), and is cut to the column's length with "…" (SQLite would keep a
longer one, PostgreSQL refuses it: a 326-character file name once failed every confirmation
of a request). Installed once on the models' base by the session factory."""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Final

from sqlalchemy import String, Table, event
from sqlalchemy.orm import Mapper

from storage.models import Base

_SURROGATES: Final = re.compile("[\ud800-\udfff]")
_CUT: Final = "…"


def fit_text(value: str, length: int | None) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    if length is not None and len(value) > length:
        value = value[: length - len(_CUT)] + _CUT
    return value


@cache
def _text_columns(mapper: Mapper[Any]) -> tuple[tuple[str, int | None], ...]:
    return tuple(
        (prop.key, column.type.length)
        for prop in mapper.column_attrs
        for column in prop.columns[:1]
        if isinstance(column.type, String)
    )


def _fit_row(mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    loaded = target.__dict__  # only what is set: expired attributes are not loaded for this
    for key, length in _text_columns(mapper):
        value = loaded.get(key)
        if isinstance(value, str):
            fitted = fit_text(value, length)
            if fitted != value:
                setattr(target, key, fitted)


@cache
def _table_text_columns(table: Table) -> tuple[tuple[str, int | None], ...]:
    return tuple(
        (column.key, column.type.length)
        for column in table.columns
        if isinstance(column.type, String)
    )


def fit_values(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The same for a row written in plain SQL (an insert's values, by column)."""
    for key, length in _table_text_columns(table):
        value = values.get(key)
        if isinstance(value, str):
            values[key] = fit_text(value, length)
    return values


def install() -> None:
    for name in ("before_insert", "before_update"):
        if not event.contains(Base, name, _fit_row):
            event.listen(Base, name, _fit_row, propagate=True)
