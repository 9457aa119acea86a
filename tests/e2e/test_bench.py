"""`python -m bench --smoke`: every benchmark scenario, at tiny sizes, on one real stack and
one seeded registry, so that none of them rots. What is asserted is that each one runs and
reports its figures (with their anchors) and that results.json describes the machine, never
how fast anything was."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.runner import SCENARIOS, run

pytestmark = pytest.mark.e2e


def test_every_scenario_runs_and_reports_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = run([], households=120, seconds=0.3, smoke=True, out=out)

    assert result["failures"] == {}
    written = json.loads(out.read_text())
    assert written["rows"] == result["rows"]
    machine = written["machine"]
    assert machine["cpus"] >= 1 and machine["memory_gb"] > 0
    assert machine["postgres"] and machine["python"] and machine["date"]
    assert len(machine["git_commit"]) == 40
    assert written["seeded"]["households"] > 100

    by_scenario: dict[str, list[dict]] = {}
    for row in written["rows"]:
        by_scenario.setdefault(row["scenario"], []).append(row)
        assert math.isfinite(row["value"]), row
    assert set(by_scenario) == set(SCENARIOS)
    for scenario, rows in by_scenario.items():
        # Each scenario measures at least one figure beside its anchor, or against a target.
        assert any(row["anchor"] or row["target"] for row in rows), scenario
    targeted = [row for row in written["rows"] if row["target"]]
    assert targeted and all(row["met"] in (True, False) for row in targeted)
