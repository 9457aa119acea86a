"""Every benchmark scenario on one stack and one freshly seeded synthetic registry, each
figure beside its anchor measured in the same run; one table at the end, and
bench/results.json with the machine's description.

    python -m bench [SCENARIO ...] [--households 85000] [--seconds 10] [--out FILE]
    python -m bench --smoke            (tiny sizes, seconds: what CI runs)

Also `make bench [SCENARIO ...]` and `inds bench`. A scenario is a module of bench/ with a
`run(ctx)` (bench/scenario.py says what it is).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import psutil

from bench.common import stop_on_sigterm
from bench.registry_seed import seed_stack
from bench.scenario import Context, Row
from bench.stack import bench_stack

# In the order they run; the last empties the registry.
SCENARIOS = (
    "gateway_throughput",
    "registry_reads",
    "dedup_check",
    "dci_search",
    "wfp_matching",
    "registry_writes",
    "sync_batch",
    "export_memory",
    "review_queue",
    "funding_report",
    "payment_cycle",
    "indicators_pack",
    "import_rate",
)
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results.json"
SMOKE_HOUSEHOLDS = 300
DUPLICATE_RATE = 0.015


def scenario_module(name: str) -> ModuleType:
    return importlib.import_module(f"bench.{name}")


def chosen(names: Sequence[str]) -> list[str]:
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise SystemExit(
            f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}"
        )
    return [name for name in SCENARIOS if not names or name in names]


def run(
    names: Sequence[str],
    *,
    households: int,
    seconds: float,
    smoke: bool = False,
    seed: int = 1,
    out: Path | None = RESULTS,
) -> dict[str, Any]:
    """Run the scenarios `names` (all when empty) and return what results.json holds."""
    stop_on_sigterm()
    selected = chosen(names)
    modules = {name: scenario_module(name) for name in selected}
    env: dict[str, str] = {}
    for module in modules.values():
        env.update(getattr(module, "STACK_ENV", {}))
    needs_registry = any(getattr(m, "USES_REGISTRY", True) for m in modules.values())
    started = time.perf_counter()
    rows: list[Row] = []
    failures: dict[str, str] = {}
    with bench_stack(**env) as stack:
        seeded = None
        if needs_registry:
            print(f"== seeding {households} households")
            seeded = seed_stack(stack, households, seed, DUPLICATE_RATE)
            print(seeded.line())
        ctx = Context(stack, households, seeded, seconds, smoke=smoke, seed=seed)
        machine = describe_machine(ctx.server_url)
        for name, module in modules.items():
            print(f"\n== {name}")
            watch = time.perf_counter()
            try:
                produced = module.run(ctx)
            except Exception as error:  # one broken scenario does not hide the others
                traceback.print_exc()
                failures[name] = f"{type(error).__name__}: {error}"
                continue
            for row in produced:
                row.scenario = name
            rows += produced
            print(f"   ({time.perf_counter() - watch:.1f} s)")
    result = {
        "machine": machine,
        "settings": {
            "households": households,
            "seconds": seconds,
            "smoke": smoke,
            "seed": seed,
            "scenarios": selected,
        },
        "seeded": None
        if seeded is None
        else {"households": seeded.households, "individuals": seeded.individuals},
        "seconds": round(time.perf_counter() - started, 1),
        "rows": [row.as_json() for row in rows],
        "failures": failures,
    }
    print()
    print(table(rows))
    for name, failure in failures.items():
        print(f"FAILED {name}: {failure}")
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten {out}")
    return result


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if value != value:
        return "nan"
    magnitude = abs(value)
    text = (
        f"{value:,.0f}" if magnitude >= 100 else f"{value:.3g}" if magnitude < 1 else f"{value:.1f}"
    )
    return f"{text} {unit}".rstrip()


def table(rows: Sequence[Row]) -> str:
    """The one table: scenario, figure, value, anchor, ratio, target, met."""
    header = ("scenario", "figure", "value", "anchor", "ratio", "target", "met")
    lines = [
        (
            row.scenario,
            row.figure,
            _number(row.value, row.unit),
            _number(row.anchor, row.unit) + (f" ({row.anchor_label})" if row.anchor_label else ""),
            "-" if row.ratio is None else f"{row.ratio:.2f}",
            "-" if row.target is None else row.target.text(row.unit),
            {True: "yes", False: "NO", None: "-"}[row.met],
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in [header, *lines]
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def describe_machine(server_url: str) -> dict[str, Any]:
    """What the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": asyncio.run(_postgres_version(server_url)),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


async def _postgres_version(server_url: str) -> str:
    connection = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=BENCH, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help=f"default: all ({', '.join(SCENARIOS)})")
    parser.add_argument("--households", type=int, default=None, help="default 85000 (smoke: 300)")
    parser.add_argument("--seconds", type=float, default=None, help="per load (default 10)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    households = args.households or (SMOKE_HOUSEHOLDS if args.smoke else 85_000)
    seconds = args.seconds or (0.5 if args.smoke else 10.0)
    result = run(
        args.scenarios,
        households=households,
        seconds=seconds,
        smoke=args.smoke,
        seed=args.seed,
        out=args.out,
    )
    if result["failures"]:
        sys.exit(1)


def scenario_main(name: str) -> None:
    """`python -m bench.<name> [options]`: that scenario alone, as `python -m bench <name>`
    runs it."""
    main([name, *sys.argv[1:]])
