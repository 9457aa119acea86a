"""Snapshots: a run of values frozen as a job, which a service down fails cleanly, and
which partners read once published."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, update

from services.indicators.context import Sources
from services.indicators.models import Snapshot, SnapshotValue
from services.indicators.snapshots import repository
from services.indicators.snapshots.job import STALE_AFTER_SECONDS, run, run_pending
from shared.db import Database
from tests.indicators.conftest import REGISTRY_URL, OneAtATime, indicators_settings, stats_client
from tests.indicators.payloads import BASE, DEFINITIONS, FRAMEWORKS
from tests.indicators.registry_set import (
    POPULATION_CSV,
    Down,
    by_cell,
    get_values,
    percent,
    upload_population,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

SNAPSHOTS = f"{BASE}/snapshots"


async def _take(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = body or {"period": "2026"}
    queued = await indicators.post(SNAPSHOTS, json=body, headers=officer)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    assert queued.headers["location"] == f"{SNAPSHOTS}/{queued.json()['id']}"
    ran = await run_pending(
        indicators_db, indicators_app.state.sources, indicators_settings(tokens)
    )
    assert ran == 1
    shown = await indicators.get(queued.headers["location"], headers=officer)
    return shown.json()


async def _frozen(
    indicators: httpx.AsyncClient, snapshot: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    answer = await indicators.get(f"{SNAPSHOTS}/{snapshot['id']}/values", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_snapshot_freezes_every_disaggregation(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
    transports: dict[str, OneAtATime],
) -> None:
    transports["beneficiaries"].paths.clear()
    snapshot = await _take(indicators, indicators_app, indicators_db, tokens, officer)
    assert snapshot["status"] == "done", snapshot
    # SDG131's people by region, sex and legal status in one request, each breakdown a sum
    # over the others; HH_FEMALE_HEAD's two measures by region.
    stats = [p for p in transports["beneficiaries"].paths if p.endswith("/stats")]
    assert len(stats) == 3
    frozen = await _frozen(indicators, snapshot, officer)
    cells = {
        (value["indicator"], tuple(value["cell"].items())): value for value in frozen["values"]
    }
    # SDG131 overall, by region (3), sex (2) and legal status (2); HH_FEMALE_HEAD overall
    # and by region (the 2 regions with beneficiary households).
    assert len(cells) == snapshot["value_count"] == 1 + 3 + 2 + 2 + 1 + 2
    assert Decimal(cells[("SDG131", ())]["value"]) == percent(5, 340)
    # Women: H1's 2 and H2's 1, of 170.
    assert Decimal(cells[("SDG131", (("sex", "F"),))]["value"]) == percent(3, 170)
    assert Decimal(cells[("SDG131", (("legal_status", "refugee"),))]["value"]) == 10
    assert cells[("HH_FEMALE_HEAD", ())]["value"] == "50"
    assert cells[("SDG131", ())]["version"] == 1

    # The population table is replaced (60 more people in Tadjourah): fresh values
    # change, the snapshot's do not.
    await upload_population(indicators, officer, POPULATION_CSV + b"2026,DJ-TA,F,national,60\n")
    # And the definition changes: a new version, which fresh values are computed with.
    current = await indicators.get(f"{DEFINITIONS}/SDG131", headers=officer)
    changed = await indicators.patch(
        f"{DEFINITIONS}/SDG131",
        json={"direction": "decrease"},
        headers={**officer, "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["direction"] == "decrease"
    fresh = by_cell(
        await get_values(indicators, officer, indicator="SDG131", period="2026"), "SDG131"
    )
    assert fresh[()]["version"] == 2
    assert Decimal(fresh[()]["value"]) == percent(5, 400)
    again = await _frozen(indicators, snapshot, officer)
    assert again["values"] == frozen["values"]


async def test_a_service_down_fails_the_snapshot_and_the_previous_stays_the_latest(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    first = await _take(indicators, indicators_app, indicators_db, tokens, officer)
    assert first["status"] == "done"
    sources = indicators_app.state.sources
    indicators_app.state.sources = Sources(
        registry=stats_client(tokens, "beneficiaries", REGISTRY_URL, Down()),
        funding=sources.funding,
    )
    try:
        second = await _take(indicators, indicators_app, indicators_db, tokens, officer)
    finally:
        indicators_app.state.sources = sources
    assert second["status"] == "failed"
    assert "beneficiaries" in second["message"]
    assert second["value_count"] == 0
    assert (await _frozen(indicators, second, officer))["values"] == []

    latest = await indicators.get(f"{SNAPSHOTS}/latest", params={"period": "2026"}, headers=officer)
    assert latest.status_code == 200
    assert latest.json()["id"] == first["id"]
    listed = await indicators.get(SNAPSHOTS, params={"period": "2026"}, headers=officer)
    assert [s["status"] for s in listed.json()] == ["failed", "done"]


async def test_partners_read_published_snapshots_only(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    partner = as_role(tokens, "partner")
    assert (
        await indicators.post(SNAPSHOTS, json={"period": "2026"}, headers=partner)
    ).status_code == 403
    assert (
        await indicators.post(SNAPSHOTS, json={"period": "2026"}, headers=analyst)
    ).status_code == 403
    forbidden = await indicators.get(
        f"{BASE}/values", params={"indicator": "SDG131", "period": "2026"}, headers=partner
    )
    assert forbidden.status_code == 403

    snapshot = await _take(
        indicators,
        indicators_app,
        indicators_db,
        tokens,
        officer,
        {"period": "2026", "indicators": ["SDG131"]},
    )
    path = f"{SNAPSHOTS}/{snapshot['id']}"
    assert (await indicators.get(path, headers=partner)).status_code == 404
    assert (await indicators.get(f"{path}/values", headers=partner)).status_code == 404
    assert (await indicators.get(SNAPSHOTS, headers=partner)).json() == []
    assert (await indicators.get(path, headers=analyst)).status_code == 200

    assert (await indicators.post(f"{path}/publish", headers=partner)).status_code == 403
    published = await indicators.post(f"{path}/publish", headers=officer)
    assert published.status_code == 200 and published.json()["published"]

    seen = by_cell(await _frozen(indicators, snapshot, partner), "SDG131")
    assert {
        value["indicator"] for value in (await _frozen(indicators, snapshot, partner))["values"]
    } == {"SDG131"}
    # Overall (5 people) is shown; Djibouti's 3 people are a small cell: flagged, and
    # withheld from partners and analysts, not from the M&E officer.
    assert Decimal(seen[()]["value"]) == percent(5, 340)
    region = {
        value["cell"].get("region"): value
        for value in (await _frozen(indicators, snapshot, partner))["values"]
        if "region" in value["cell"]
    }
    assert region["DJ-DJ"]["flagged"] and region["DJ-DJ"]["suppressed"]
    assert region["DJ-DJ"]["value"] is None and region["DJ-DJ"]["numerator"] is None
    officer_view = {
        value["cell"].get("region"): value
        for value in (await _frozen(indicators, snapshot, officer))["values"]
        if "region" in value["cell"]
    }
    assert officer_view["DJ-DJ"]["value"] == "1.5" and not officer_view["DJ-DJ"]["suppressed"]
    # Obock: nobody covered, no small cell.
    assert region["DJ-OB"]["value"] == "0" and not region["DJ-OB"]["flagged"]


async def test_a_bad_snapshot_request_saves_nothing(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
) -> None:
    for body in ({"period": "2026Q5"}, {"period": "2026", "indicators": ["SDG131", "NOPE"]}):
        answer = await indicators.post(SNAPSHOTS, json=body, headers=officer)
        assert answer.status_code == 422, answer.text
    assert (await indicators.get(SNAPSHOTS, headers=officer)).json() == []


async def test_the_framework_shows_each_indicator_s_latest_snapshot_value(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    parts = [
        (FRAMEWORKS, {"code": "SNPS", "name_fr": "SNPS", "name_en": "SNPS"}),
        (f"{FRAMEWORKS}/SNPS/axes", {"code": "A1", "name_fr": "Filets", "name_en": "Nets"}),
    ]
    for path, body in parts:
        created = await indicators.post(path, json=body, headers=officer)
        assert created.status_code == 201, created.text
    objective = await indicators.post(
        f"{BASE}/axes/{created.json()['id']}/objectives",
        json={"code": "OS1", "name_fr": "Couvrir", "name_en": "Cover"},
        headers=officer,
    )
    current = await indicators.get(f"{DEFINITIONS}/SDG131", headers=officer)
    linked = await indicators.patch(
        f"{DEFINITIONS}/SDG131",
        json={"objective_id": objective.json()["id"]},
        headers={**officer, "If-Match": current.headers["etag"]},
    )
    assert linked.status_code == 200, linked.text

    async def shown(headers: dict[str, str]) -> dict[str, Any]:
        tree = (await indicators.get(f"{FRAMEWORKS}/SNPS", headers=headers)).json()
        (indicator,) = tree["axes"][0]["objectives"][0]["indicators"]
        assert indicator["code"] == "SDG131"
        return indicator

    assert (await shown(officer))["latest"] is None, "no snapshot yet"
    snapshot = await _take(indicators, indicators_app, indicators_db, tokens, officer)
    for reader in (officer, analyst):
        latest = (await shown(reader))["latest"]
        assert latest["snapshot_id"] == snapshot["id"]
        assert (latest["period"], latest["status"]) == ("2026", "no_target")
        assert Decimal(latest["value"]) == percent(5, 340)

    # Had that value come from fewer people than the threshold, the analyst would read the
    # tree without its figure or status; the M&E officer with them.
    async with indicators_db.sessionmaker() as session, session.begin():
        await session.execute(
            update(SnapshotValue)
            .where(SnapshotValue.snapshot_id == snapshot["id"], SnapshotValue.indicator == "SDG131")
            .values(body=SnapshotValue.body.op("||")(func.jsonb_build_object("flagged", True)))
        )
    hidden = (await shown(analyst))["latest"]
    assert (hidden["value"], hidden["status"]) == (None, None)
    assert hidden["period"] == "2026"
    assert Decimal((await shown(officer))["latest"]["value"]) == percent(5, 340)


async def test_a_snapshot_s_values_download_as_csv_as_the_reader_may_see_them(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    snapshot = await _take(indicators, indicators_app, indicators_db, tokens, officer)
    path = f"{SNAPSHOTS}/{snapshot['id']}/values"

    async def lines(headers: dict[str, str]) -> list[dict[str, str]]:
        answer = await indicators.get(f"{path}.csv", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        text = answer.content.decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))

    as_json = (await _frozen(indicators, snapshot, officer))["values"]
    rows = await lines(officer)
    assert len(rows) == len(as_json) == snapshot["value_count"]
    assert set(rows[0]) >= {"indicator", "period", "region", "sex", "legal_status", "value"}
    overall = next(r for r in rows if r["indicator"] == "SDG131" and not r["region"] + r["sex"])
    assert Decimal(overall["value"]) == percent(5, 340)
    assert (overall["numerator"], overall["denominator"]) == ("5", "340")
    assert (overall["version"], overall["flagged"]) == ("1", "no")
    # A small cell: its figures for the M&E officer, withheld from the analyst as in JSON.
    for headers, shown in ((officer, True), (analyst, False)):
        small = next(
            r
            for r in await lines(headers)
            if r["indicator"] == "SDG131" and r["legal_status"] == "refugee"
        )
        assert small["flagged"] == "yes"
        assert (small["numerator"] == "2") is shown and (small["value"] == "") is not shown


async def test_a_run_taken_over_by_another_worker_keeps_only_the_newer_run_s_values(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    """A worker thought stopped (no heartbeat for too long) whose run then ends after
    another worker claimed the snapshot again: its values are not added to the other's."""
    queued = await indicators.post(SNAPSHOTS, json={"period": "2026"}, headers=officer)
    assert queued.status_code == 202, queued.text
    async with indicators_db.sessionmaker() as session, session.begin():
        first = await repository.claim(session, STALE_AFTER_SECONDS)
        assert first is not None
        await session.execute(
            update(Snapshot)
            .where(Snapshot.id == first.id)
            .values(heartbeat_at=func.now() - timedelta(seconds=STALE_AFTER_SECONDS + 1))
        )
    async with indicators_db.sessionmaker() as session, session.begin():
        second = await repository.claim(session, STALE_AFTER_SECONDS)
        assert second is not None and second.id == first.id
    settings, sources = indicators_settings(tokens), indicators_app.state.sources
    await run(indicators_db, sources, settings, second)
    await run(indicators_db, sources, settings, first)  # the stale worker ends last
    shown = (await indicators.get(f"{SNAPSHOTS}/{first.id}", headers=officer)).json()
    frozen = await _frozen(indicators, shown, officer)
    assert shown["status"] == "done"
    assert len(frozen["values"]) == shown["value_count"] == 1 + 3 + 2 + 2 + 1 + 2
