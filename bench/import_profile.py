"""Where an import's time goes: the import job run in this process (no gateway, no upload)
against a throwaway stack's database, profiled with pyinstrument in async mode, so that the
time a coroutine waits for the database is counted where it waits.

    python -m bench.import_profile [--households 20000] [--html FOLDER]

Prints the phases' shares of the wall time (validation, keys, PMT, duplicate flagging,
COPY...) and the profile's tree; `pip install pyinstrument` first (a benchmark tool, not a
dependency of the platform).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bench.common import Stopwatch, scratch_folder
from bench.import_rate import generate
from bench.stack import activate_formula, bench_stack
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.imports import job as import_job
from services.beneficiaries.imports import service
from services.beneficiaries.models import AuditEvent
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import Database
from shared.settings import database_url_for

# A frame's function name (or file) -> the phase it counts for; the innermost match wins.
PHASES = {
    "flag_many": "duplicate flagging",
    "people_of": "duplicate flagging",
    "record_writes": "audit rows",
    "copy_records_to_table": "COPY",
    "score_households": "PMT",
    "person_columns": "keys and row mapping",
    "household_columns": "keys and row mapping",
    "_check": "registry checks (identifiers, submissions)",
    "_read_ahead": "waiting for the next parsed batch (reading, validation)",
    "report": "progress and errors",
    # asyncpg decodes the rows of a query's answer in its protocol callback, outside the
    # coroutine that awaits them (most of them: the duplicate candidates' details).
    "_read_ready__data_received": "decoding query results (mostly duplicate candidates)",
    "poll": "idle: waiting for the database",
}


async def profiled_import(server_url: str, folder: Path, path: Path) -> Any:
    from pyinstrument import Profiler

    url = database_url_for(server_url, "beneficiaries")
    settings = BeneficiariesSettings(database_url=url, import_dir=folder / "imports")
    settings.imports_folder().mkdir(exist_ok=True)
    database = Database(url, pool_size=4)
    audit = AuditTrail(AuditEvent, flush_interval=None)
    principal = Principal(subject="bench", roles=frozenset({"data_manager"}))

    async def chunks() -> Any:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    async with database.sessionmaker() as session, session.begin():
        job = await service.start_import(
            session,
            principal,
            audit,
            settings,
            chunks=chunks(),
            file_name=path.name,
            mode="valid_only",
        )
    async with database.sessionmaker() as session, session.begin():
        claimed = await import_job.repository.claim_job(session, 120)
    assert claimed is not None and claimed.id == job.id
    profiler = Profiler(async_mode="enabled", interval=0.002)
    with Stopwatch() as watch:
        profiler.start()
        await import_job.run(database, settings, audit, claimed)
        profiler.stop()
    await database.dispose()
    return profiler, watch.seconds


def shares(profiler: Any) -> dict[str, float]:
    """Each phase's seconds: the self time of every frame under the phase's frame."""
    totals: dict[str, float] = {}

    def walk(frame: Any, phase: str | None) -> None:
        name = frame.function or ""
        phase = PHASES.get(name, PHASES.get(name.rpartition(".")[2], phase))
        if phase is None and "pydantic" in (frame.file_path or ""):
            phase = "validation (pydantic)"
        own = frame.time - sum(child.time for child in frame.children)
        totals[phase or "other"] = totals.get(phase or "other", 0.0) + own
        for child in frame.children:
            walk(child, phase)

    root = profiler.last_session.root_frame()
    walk(root, None)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--html", type=Path, help="also write the profile as HTML here")
    args = parser.parse_args()
    with scratch_folder("inds-import-profile-") as folder, bench_stack() as stack:
        assert stack.server_url is not None
        activate_formula(stack)
        path = folder / "registry.csv"
        rows = generate(path, args.households, args.seed)
        profiler, seconds = asyncio.run(profiled_import(stack.server_url, folder, path))
    print(f"import in-process: {rows} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")
    totals = shares(profiler)
    whole = sum(totals.values())
    for phase, spent in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {phase:<58} {spent:7.2f} s {spent / whole:6.1%}")
    if args.html:
        args.html.mkdir(parents=True, exist_ok=True)
        (args.html / "import.html").write_text(profiler.output_html())
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
