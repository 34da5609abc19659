"""Key rotation: re-encrypt every encrypted column under the newest data-key version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import String, Table, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import crypto
from kefu.core.db import Base


@dataclass
class RotationReport:
    version: int
    columns: int
    rewritten: int
    already_current: int


def encrypted_columns() -> list[tuple[Table, str, str]]:
    """(table, column name, context) of every column declared ``Encrypted`` in the metadata."""
    import kefu.models  # noqa: F401 - registers every table

    out = []
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, crypto.Encrypted):
                out.append((table, col.name, col.type.context))
    return out


async def count_values(session: AsyncSession) -> int:
    from sqlalchemy import func

    total = 0
    for table, col, _ in encrypted_columns():
        total += (await session.execute(select(func.count()).where(table.c[col].isnot(None)))).scalar_one()
    return total


async def rotate(session: AsyncSession, *, progress: Callable[[int], None] | None = None) -> RotationReport:
    """Rewrite each value not under the current key version. Reads raw text (no type decoding)."""
    ring = crypto.keyring()
    current = ring.current_version
    rewritten = already = 0
    cols = encrypted_columns()
    for table, col, context in cols:
        pk = list(table.primary_key.columns)
        # type_coerce bypasses the TypeDecorator, so the stored ciphertext is read and written as is
        stmt = select(*pk, type_coerce(table.c[col], String).label("raw")).where(table.c[col].isnot(None))
        rows = (await session.execute(stmt)).all()
        for row in rows:
            token: str = row.raw
            if crypto.key_version_of(token) == current:
                already += 1
            else:
                plain = crypto.decrypt(token, context=context)
                where = [c == getattr(row, c.name) for c in pk]
                await session.execute(
                    update(table)
                    .where(*where)
                    .values({col: type_coerce(crypto.encrypt(plain, context=context), String)})
                )
                rewritten += 1
            if progress:
                progress(1)
    return RotationReport(version=current, columns=len(cols), rewritten=rewritten, already_current=already)
