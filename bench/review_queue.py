"""The duplicate review queue and its recall, from bench/dedup_quality.py (which builds its
own registry in memory and owns the figures): a thin adapter to the runner's rows.

Targets (issue 12): recall >= 95 % on duplicates of every kind; at most 2 % of siblings,
twins or namesakes a generation apart flagged; at most 5 flagged pairs per 1,000 people
that are not planted.

    make bench review_queue [BENCH_ARGS="--households 85000"]
"""

from __future__ import annotations

from bench import dedup_quality
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target

USES_REGISTRY = False
TARGETS = dedup_quality.TARGETS


def run(ctx: Context) -> list[Row]:
    figures = dedup_quality.run(min(ctx.households, ctx.size(85_000, 300)), ctx.size(4_000, 100))
    test, synthetic = figures["testset"], figures["synthetic"]
    rows = [
        Row(
            f"recall, {kind}",
            100 * value,
            "%",
            target=Target(">=", 100 * TARGETS["recall"]),
            note=f"of {total} labelled pairs",
        )
        for kind, (value, total) in test["recall"].items()
        if value is not None
    ]
    rows += [
        Row(
            f"look-alikes flagged, {kind}",
            100 * value,
            "%",
            target=None if kind == "all" else Target("<=", 100 * TARGETS["look_alikes_flagged"]),
            note=f"of {total} pairs",
        )
        for kind, (value, total) in test["look_alikes_flagged"].items()
        if value is not None
    ]
    rows.append(
        Row(
            "flagged pairs not planted, per 1,000 people",
            synthetic["flagged_per_1000"],
            target=Target("<=", TARGETS["flagged_per_1000"]),
            note=f"{synthetic['people']:,} people of the synthetic registry",
        )
    )
    return rows


if __name__ == "__main__":
    scenario_main("review_queue")
