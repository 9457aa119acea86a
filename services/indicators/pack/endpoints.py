"""`POST /definitions/standard-pack`: the standard pack defined on demand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.indicators.context import EditorChange, StatsSources
from services.indicators.pack import service as pack

router = APIRouter(prefix="/api/v1/indicators", tags=["definitions"])


class PackLoaded(BaseModel):
    created: list[str]
    existing: list[str] = Field(description="Already defined: left as they are.")
    refused: list[dict[str, Any]] = Field(
        description="Not supported by the services' catalogues yet (e.g. a programme the "
        "registry does not have): code, detail and errors, as a definition's 422 gives them."
    )


@router.post(
    "/definitions/standard-pack",
    response_model=PackLoaded,
    description="me_officer or admin. Defines the indicators of the standard pack not "
    "defined yet (SDG 1.3.1 proxy, refugee households and coverage, households paid, "
    "transfers, payment success, disbursement rate, funds mobilised, adequacy, FGT P0-P2), "
    "each checked as any definition is, with the baselines and targets the pack sets (the "
    "refugee households' 1,500). 503 naming a service that cannot be reached, and "
    "nothing saved.",
)
async def load_standard_pack(change: EditorChange, sources: StatsSources) -> PackLoaded:
    outcome = await pack.load(change, sources)
    return PackLoaded(created=outcome.created, existing=outcome.existing, refused=outcome.refused)
