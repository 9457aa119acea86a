"""The duplicate review queue and its recall, from bench/dedup_quality.py (which builds its
own registry in memory and owns the figures): a thin adapter to the runner's rows.

Targets (issue 12): recall >= 95 % on duplicates of every kind; at most 2 % of siblings,
twins or namesakes a generation apart flagged; at most 5 flagged pairs per 1,000 people
that are not planted.

    python -m bench.review_queue [--households 30000]
"""

from __future__ import annotations

from numbers import Real

from bench import dedup_quality
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target

USES_REGISTRY = False
# Figures bench/dedup_quality.py may report, with their unit and target.
KNOWN: dict[str, tuple[str, Target | None]] = {
    "recall": ("%", Target(">=", 95)),
    "look_alikes_flagged": ("%", Target("<=", 2)),
    "pairs_per_1000": ("", Target("<=", 5)),
}


def run(ctx: Context) -> list[Row]:
    measure = getattr(dedup_quality, "run", None)
    if measure is None:
        print("bench/dedup_quality.py has no run(households) yet: nothing measured")
        return []
    figures = measure(min(ctx.households, ctx.size(30_000, 300)))
    rows = []
    for name, value in figures.items():
        if not isinstance(value, Real) or isinstance(value, bool):
            continue
        unit, target = KNOWN.get(name, ("", None))
        rows.append(Row(name.replace("_", " "), float(value), unit, target=target))
    return rows


if __name__ == "__main__":
    scenario_main("review_queue")
