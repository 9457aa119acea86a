"""Disclosure control. The registry gives this service exact counts; a value computed from
a count of fewer people than the registry's small-cell threshold is flagged, and shown to
analysts and partners the way the registry shows its own small cells: without the figures."""

from __future__ import annotations

from services.indicators.access import sees_small_cells
from services.indicators.clients.stats import StatsClient
from services.indicators.values.schemas import IndicatorValue
from shared.auth import Principal


def small_cell_threshold(registry: StatsClient, default: int) -> int:
    """The registry's threshold from its last /stats/catalog, else the setting's."""
    return registry.small_cell_threshold or default


def for_reader(value: IndicatorValue, principal: Principal) -> IndicatorValue:
    """The value as `principal` may see it: a flagged one without its figures (nor the
    status they would reveal) for analysts and partners."""
    if not value.flagged or sees_small_cells(principal):
        return value
    return value.model_copy(
        update={
            "value": None,
            "numerator": None,
            "denominator": None,
            "status": None,
            "expected": None,
            "suppressed": True,
            "reason": "suppressed: computed from fewer people than the small-cell threshold",
        }
    )
