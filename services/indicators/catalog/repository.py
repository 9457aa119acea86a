"""The indicators already defined, as other expressions may use them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.expressions.names import IndicatorRef
from services.indicators.models import Indicator, IndicatorVersion


async def indicator_refs(session: AsyncSession) -> dict[str, IndicatorRef]:
    """Every indicator by code, with what its current definition uses."""
    rows = await session.execute(
        select(
            Indicator.code, IndicatorVersion.uses_indicators, IndicatorVersion.disaggregations
        ).join(
            IndicatorVersion,
            (IndicatorVersion.indicator_id == Indicator.id)
            & (IndicatorVersion.version == Indicator.version),
        )
    )
    return {
        code: IndicatorRef(code, frozenset(uses), frozenset(disaggregations))
        for code, uses, disaggregations in rows
    }
