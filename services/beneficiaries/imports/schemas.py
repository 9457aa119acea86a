from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ImportJob(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    mode: str
    file_name: str
    file_format: str
    file_bytes: int
    total_rows: int | None
    processed_rows: int
    households_created: int
    individuals_created: int
    households_skipped: int
    duplicates_flagged: int
    error_count: int
    message: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
