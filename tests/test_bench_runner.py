"""The benchmark runner's rows and table (bench/scenario.py, bench/runner.py): a target is
met or not on the figure or on its ratio to the anchor, and the load goes to this machine
only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import ensure_loopback
from bench.runner import chosen, table
from bench.scenario import Row, Target


def test_a_target_bounds_the_value_or_the_ratio_to_the_anchor() -> None:
    latency = Row("p95", 120.0, "ms", anchor=80.0, target=Target("<", 100))
    assert latency.ratio == 1.5 and latency.met is False
    throughput = Row("rps", 700.0, "req/s", anchor=1000.0, target=Target(">=", 0.6, on="ratio"))
    assert throughput.met is True
    no_anchor = Row("rps", 700.0, "req/s", target=Target(">=", 0.6, on="ratio"))
    assert no_anchor.ratio is None and no_anchor.met is None
    assert Row("x", 1.0).met is None


def test_the_table_has_one_line_per_figure_with_ratio_target_and_verdict() -> None:
    rows = [
        Row("p95", 120.0, "ms", anchor=80.0, anchor_label="direct", target=Target("<", 100)),
        Row("rps", 700.0, "req/s", anchor=1000.0, target=Target(">=", 0.6, on="ratio")),
    ]
    for row in rows:
        row.scenario = "demo"
    lines = table(rows).splitlines()
    assert lines[0].split() == ["scenario", "figure", "value", "anchor", "ratio", "target", "met"]
    assert "80.0 ms (direct)" in lines[2] and "1.50" in lines[2] and lines[2].endswith("NO")
    assert "ratio >= 0.6" in lines[3] and lines[3].endswith("yes")
    assert Row("x", 1.0, anchor=0.0).as_json()["ratio"] is None


def test_scenarios_are_run_in_their_order_and_unknown_names_refused() -> None:
    assert chosen(["import_rate", "sync_batch"]) == ["sync_batch", "import_rate"]
    with pytest.raises(SystemExit, match="unknown scenario"):
        chosen(["no_such_bench"])


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:9"])
def test_load_goes_to_loopback_addresses(url: str) -> None:
    ensure_loopback(url)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "https://example.org", "http://0.0.0.0:1"])
def test_load_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        ensure_loopback(url)


def test_inds_bench_names_the_scenarios_it_knows_when_asked_for_another() -> None:
    inds = Path(sys.executable).with_name("inds")
    done = subprocess.run(
        [str(inds), "bench", "no_such_bench"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "unknown scenario(s): no_such_bench; known: gateway_throughput" in done.stderr
