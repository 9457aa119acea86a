"""Baselines and targets, and the status of values against them (the rule of
targets/status.py, published in GET /catalog)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.indicators.status import Milestone, judge
from tests.indicators.payloads import BASE, DEFINITIONS, FRAMEWORKS
from tests.indicators.registry_set import by_cell, get_values

M = Milestone
D = Decimal


@pytest.mark.parametrize(
    ("value", "year", "direction", "baselines", "targets", "status", "expected"),
    [
        # 10 in 2020 to 30 in 2024: 20 expected in 2022.
        ("20", 2022, "increase", [M(2020, D(10))], [M(2024, D(30))], "on_track", "20"),
        ("19.9", 2022, "increase", [M(2020, D(10))], [M(2024, D(30))], "off_track", "20"),
        ("30", 2022, "increase", [M(2020, D(10))], [M(2024, D(30))], "achieved", None),
        # The target's year has passed (the last target is the one judged by).
        ("29", 2025, "increase", [M(2020, D(10))], [M(2024, D(30))], "off_track", None),
        ("31", 2025, "increase", [M(2020, D(10))], [M(2024, D(30))], "achieved", None),
        # No baseline to draw the path from: short of the target is off track.
        ("29", 2022, "increase", [], [M(2024, D(30))], "off_track", None),
        # Lower is better: 40 in 2020 to 20 in 2024, 30 expected in 2022.
        ("30", 2022, "decrease", [M(2020, D(40))], [M(2024, D(20))], "on_track", "30"),
        ("31", 2022, "decrease", [M(2020, D(40))], [M(2024, D(20))], "off_track", "30"),
        ("19", 2022, "decrease", [M(2020, D(40))], [M(2024, D(20))], "achieved", None),
        # The next target due: 2024's in 2023 (path 10 in 2020 to 40 in 2024: 32.5).
        (
            "32.5",
            2023,
            "increase",
            [M(2020, D(10))],
            [M(2022, D(20)), M(2024, D(40))],
            "on_track",
            "32.5",
        ),
        ("5", 2022, "increase", [M(2020, D(10))], [], "no_target", None),
    ],
)
def test_the_status_rule(
    value: str,
    year: int,
    direction: str,
    baselines: list[Milestone],
    targets: list[Milestone],
    status: str,
    expected: str | None,
) -> None:
    judgement = judge(Decimal(value), year, direction, baselines, targets)
    assert judgement.status == status
    assert judgement.expected == (None if expected is None else Decimal(expected))


def _targets(baselines: list[Any], targets: list[Any]) -> dict[str, Any]:
    return {"baselines": baselines, "targets": targets}


async def test_values_carry_their_status_against_the_targets(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    body = _targets(
        [{"year": 2024, "value": 1}],
        [
            {"year": 2027, "value": 3},
            {"year": 2026, "value": "2", "cell": {"region": "DJ-AS"}},
        ],
    )
    saved = await indicators.put(f"{DEFINITIONS}/SDG131/targets", json=body, headers=officer)
    assert saved.status_code == 200, saved.text
    assert saved.json()["direction"] == "increase"
    shown = await indicators.get(f"{DEFINITIONS}/SDG131/targets", headers=analyst)
    assert [(t["year"], t["value"], t["cell"]) for t in shown.json()["targets"]] == [
        (2026, "2", {"region": "DJ-AS"}),
        (2027, "3", {}),
    ]

    answer = await get_values(indicators, officer, indicator="SDG131", period="2026", by="region")
    cells = by_cell(answer, "SDG131")
    # Overall 5/340 = 1.47%, short of the 1 + (3 - 1) x 2/3 = 2.33% expected in 2026.
    overall = cells[()]
    assert overall["status"] == "off_track"
    assert (overall["target"], overall["target_year"]) == ("3", 2027)
    assert Decimal(overall["expected"]) == (Decimal(1) + Decimal(2) * 2 / 3).quantize(
        Decimal("0.000001")
    )
    # Ali Sabieh: 2 of 100 = 2%, its own target of 2026 met.
    assert cells[("DJ-AS",)]["status"] == "achieved"
    # Djibouti has no target of its own.
    assert cells[("DJ-DJ",)]["status"] == "no_target"

    catalog = await indicators.get(f"{BASE}/catalog", headers=analyst)
    assert "straight line from the baseline" in catalog.json()["status_rule"]


async def test_bad_targets_save_nothing(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
) -> None:
    path = f"{DEFINITIONS}/SDG131/targets"
    first = await indicators.put(
        path, json=_targets([], [{"year": 2027, "value": 3}]), headers=officer
    )
    assert first.status_code == 200
    cases = [
        # SDG131 is not disaggregated by age group; a region nobody publishes.
        {"year": 2027, "value": 4, "cell": {"age_group": "0-4"}},
        {"year": 2027, "value": 4, "cell": {"region": "DJ-XX"}},
    ]
    for case in cases:
        answer = await indicators.put(
            path, json=_targets([], [{"year": 2026, "value": 1}, case]), headers=officer
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["path"].startswith("body.targets.1.cell")
    twice = _targets([], [{"year": 2026, "value": 1}, {"year": 2026, "value": 2}])
    assert (await indicators.put(path, json=twice, headers=officer)).status_code == 422
    floats = _targets([], [{"year": 2026, "value": 1.5}])
    assert (await indicators.put(path, json=floats, headers=officer)).status_code == 422
    unknown = await indicators.put(
        f"{DEFINITIONS}/NOPE/targets", json=_targets([], []), headers=officer
    )
    assert unknown.status_code == 404
    kept = await indicators.get(path, headers=officer)
    assert [t["year"] for t in kept.json()["targets"]] == [2027]


async def test_targets_fall_within_the_strategy(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
) -> None:
    strategy = await indicators.post(
        FRAMEWORKS,
        json={
            "code": "SNPS-2018-2022",
            "name_fr": "SNPS",
            "name_en": "SNPS",
            "start_year": 2018,
            "end_year": 2022,
        },
        headers=officer,
    )
    assert strategy.status_code == 201, strategy.text
    axis = await indicators.post(
        f"{FRAMEWORKS}/SNPS-2018-2022/axes",
        json={"code": "A1", "name_fr": "Axe 1", "name_en": "Axis 1"},
        headers=officer,
    )
    objective = await indicators.post(
        f"{BASE}/axes/{axis.json()['id']}/objectives",
        json={"code": "OS1", "name_fr": "Objectif", "name_en": "Objective"},
        headers=officer,
    )
    current = await indicators.get(f"{DEFINITIONS}/SDG131", headers=officer)
    linked = await indicators.patch(
        f"{DEFINITIONS}/SDG131",
        json={"objective_id": objective.json()["id"]},
        headers={**officer, "If-Match": current.headers["etag"]},
    )
    assert linked.status_code == 200, linked.text
    path = f"{DEFINITIONS}/SDG131/targets"
    late = await indicators.put(
        path, json=_targets([], [{"year": 2026, "value": 3}]), headers=officer
    )
    assert late.status_code == 422
    assert late.json()["errors"][0]["path"] == "body.targets.0.year"
    early = await indicators.put(
        path, json=_targets([], [{"year": 2017, "value": 3}]), headers=officer
    )
    assert early.status_code == 422
    # A baseline may predate the strategy.
    fine = _targets([{"year": 2017, "value": 1}], [{"year": 2022, "value": 3}])
    assert (await indicators.put(path, json=fine, headers=officer)).status_code == 200
