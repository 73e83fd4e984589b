"""Finding one row by the reference a person types: its ID, or a unique name."""

from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.services.errors import Conflict, NotFound
from storage.models import Base

M = TypeVar("M", bound=Base)


def find_one(session: Session, model: type[M], ref: str | int, *, what: str, matches: ColumnElement[bool]) -> M:
    """``ref`` as an ID when it is all digits, else the one row ``matches`` selects."""
    if isinstance(ref, int) or str(ref).isdigit():
        row = session.get(model, int(ref))
        if row is None:
            raise NotFound(f"There is no {what} with ID {ref}.")
        return row
    rows = session.scalars(select(model).where(matches)).all()
    if not rows:
        raise NotFound(f"There is no {what} named {ref!r}.")
    if len(rows) > 1:
        raise Conflict(f"Several {what}s match {ref!r}; use its ID.")
    return rows[0]
