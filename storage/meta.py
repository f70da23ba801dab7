"""Small key-value facts the application keeps about itself (e.g. the policy fingerprint)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MetaValue


async def get_meta(session: AsyncSession, key: str) -> str | None:
    row = await session.get(MetaValue, key)
    return row.value if row else None


async def set_meta(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(MetaValue, key)
    if row is None:
        session.add(MetaValue(key=key, value=value))
    else:
        row.value = value
