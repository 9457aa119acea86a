from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.models import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
