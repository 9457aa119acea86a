"""The status of a value against its indicator's baselines and targets: one rule, stated
here once and published in `GET /catalog` (STATUS_RULE)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

Status = Literal["achieved", "on_track", "off_track", "no_target"]
STATUSES: tuple[str, ...] = get_args(Status)

STATUS_RULE = (
    "A value of year Y (the year of its period) in a cell is judged against the targets "
    "set for that same cell (overall, or e.g. region=DJ-OB): the first target of year Y or "
    "later, else the last one before Y; none: no_target. The definition's direction says "
    "whether progress is a rise (increase) or a fall (decrease). achieved: the value is at "
    "or beyond the target. Otherwise, before the target's year and with a baseline of the "
    "cell from an earlier year (the latest such), progress is expected along the straight "
    "line from the baseline (its year and value) to the target (its year and value): "
    "on_track when the value is at or beyond the expected value of year Y, off_track when "
    "short of it. Short of a target whose year has come, or with no baseline to draw the "
    "line from: off_track. A cell without a value has no status."
)


@dataclass(frozen=True)
class Milestone:
    year: int
    value: Decimal


@dataclass(frozen=True)
class Judgement:
    status: Status
    target: Milestone | None = None
    baseline: Milestone | None = None
    # The value expected in year Y on the path from the baseline to the target.
    expected: Decimal | None = None


def judge(
    value: Decimal,
    year: int,
    direction: str,
    baselines: Sequence[Milestone],
    targets: Sequence[Milestone],
) -> Judgement:
    """The status of `value` of `year` against the cell's baselines and targets."""
    target = _target_for(year, targets)
    if target is None:
        return Judgement("no_target")
    sign = Decimal(1) if direction == "increase" else Decimal(-1)
    if sign * (value - target.value) >= 0:
        return Judgement("achieved", target)
    earlier = [b for b in baselines if b.year < target.year and b.year <= year]
    if year >= target.year or not earlier:
        return Judgement("off_track", target)
    baseline = max(earlier, key=lambda b: b.year)
    share = Decimal(year - baseline.year) / Decimal(target.year - baseline.year)
    expected = baseline.value + (target.value - baseline.value) * share
    status: Status = "on_track" if sign * (value - expected) >= 0 else "off_track"
    return Judgement(status, target, baseline, expected)


def _target_for(year: int, targets: Sequence[Milestone]) -> Milestone | None:
    later = [t for t in targets if t.year >= year]
    if later:
        return min(later, key=lambda t: t.year)
    return max(targets, key=lambda t: t.year, default=None)
