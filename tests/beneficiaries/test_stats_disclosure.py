"""Small-cell protection of `GET /stats`: analysts get small cells withheld, with enough
other cells withheld that none can be worked out from the totals; registry staff and the
indicators service's own client get exact counts.

The registry here: households by region and the head's legal status (one person each),

              national  refugee  asylum_seeker   region
    DJ-AS        12        3           -           15
    DJ-DJ        20        7           6           33
    DJ-OB         2        -           -            2
    DJ-TA         9        8           -           17
    status       43       18           6           67
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.beneficiaries.app import create_app
from services.indicators.clients.stats import StatsClient
from shared.db import Database
from shared.http_client import create_http_client
from shared.service_client import ServiceClient
from tests.beneficiaries.factories import Person, add_household
from tests.beneficiaries.helpers import BASE
from tests.support.apps import serve
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory

STATS = f"{BASE}/stats"
LOCALITY = {
    "DJ-AS": "DJ-AS-ALISABIEH-VILLE",
    "DJ-DJ": "DJ-DJ-BALBALA-PK12",
    "DJ-OB": "DJ-OB-OBOCK-MARKAZI",
    "DJ-TA": "DJ-TA-TADJOURAH-VILLE",
}
HOUSEHOLDS = {
    ("DJ-AS", "national"): 12,
    ("DJ-AS", "refugee"): 3,
    ("DJ-DJ", "national"): 20,
    ("DJ-DJ", "refugee"): 7,
    ("DJ-DJ", "asylum_seeker"): 6,
    ("DJ-OB", "national"): 2,
    ("DJ-TA", "national"): 9,
    ("DJ-TA", "refugee"): 8,
}
Cell = tuple[Any, ...]


@pytest.fixture
async def households(registry: httpx.AsyncClient, beneficiaries_db: Database) -> None:
    """Needs the app started: its startup loads the administrative areas."""
    async with beneficiaries_db.sessionmaker() as session:
        for (region, status), count in HOUSEHOLDS.items():
            for number in range(count):
                await add_household(
                    session,
                    [Person(f"Head{number}", legal_status=status, sex="FM"[number % 2])],
                    locality=LOCALITY[region],
                )
        await session.commit()


async def answer(
    client: httpx.AsyncClient, tokens: TokenFactory, role: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(STATS, params=params, headers=as_role(tokens, role))
    assert response.status_code == 200, response.text
    return response.json()


def cells(answer: dict[str, Any]) -> dict[Cell, int | None]:
    return {tuple(row[name] for name in answer["group_by"]): row["count"] for row in answer["rows"]}


def withheld(answer: dict[str, Any]) -> set[Cell]:
    rows = answer["rows"]
    assert all(row["count"] is None for row in rows if row.get("suppressed"))
    assert all(row["count"] is not None for row in rows if "suppressed" not in row)
    return {
        tuple(row[name] for name in answer["group_by"]) for row in rows if row.get("suppressed")
    }


def possible_tables(
    unknown: list[Cell], lines: list[tuple[list[Cell], int]], most: int
) -> Iterator[dict[Cell, int]]:
    """Every way to fill the `unknown` cells (each from 1, the row exists, to `most`) so
    that each line's cells add up to its total. Backtracking, a line checked each time one
    of its cells is given a value: its cells so far leave at least 1 for each cell to go,
    and exactly nothing once the last is given."""
    position_of = {cell: index for index, cell in enumerate(unknown)}
    lines_of: dict[Cell, list[tuple[list[Cell], int]]] = {cell: [] for cell in unknown}
    for members, total in lines:
        ordered = sorted((cell for cell in members if cell in position_of), key=position_of.get)
        for cell in ordered:
            lines_of[cell].append((ordered, total))

    def fits(cell: Cell, values: dict[Cell, int]) -> bool:
        for members, total in lines_of[cell]:
            given = [values[c] for c in members if c in values]
            if sum(given) + (len(members) - len(given)) > total:
                return False
            if len(given) == len(members) and sum(given) != total:
                return False
        return True

    def fill(position: int, values: dict[Cell, int]) -> Iterator[dict[Cell, int]]:
        if position == len(unknown):
            yield dict(values)
            return
        cell = unknown[position]
        for value in range(1, most + 1):
            values[cell] = value
            if fits(cell, values):
                yield from fill(position + 1, values)
        del values[cell]

    yield from fill(0, {})


async def test_an_analyst_gets_small_cells_withheld_with_their_complements(
    registry: httpx.AsyncClient, tokens: TokenFactory, households: None
) -> None:
    by_region = await answer(registry, tokens, "analyst", measure="households", group_by="region")
    # DJ-OB's 2 is small; alone, it would be the total minus the others: the smallest other
    # region (DJ-AS, 15) is withheld with it.
    assert withheld(by_region) == {("DJ-OB",), ("DJ-AS",)}
    assert cells(by_region) == {("DJ-AS",): None, ("DJ-DJ",): 33, ("DJ-OB",): None, ("DJ-TA",): 17}
    assert by_region["total"] == 67
    assert by_region["disclosure_control"] == {
        "threshold": 5,
        "suppressed_rows": 2,
        "total_suppressed": False,
    }

    only_obock = await answer(registry, tokens, "analyst", measure="households", region="DJ-OB")
    assert only_obock["rows"] == [{"count": None, "suppressed": True}]
    assert only_obock["total"] is None
    assert only_obock["disclosure_control"]["total_suppressed"] is True

    # A count of people, too: Obock's two people.
    people = await answer(registry, tokens, "analyst", measure="individuals", group_by="region")
    assert ("DJ-OB",) in withheld(people)


async def test_no_withheld_cell_can_be_worked_out_from_the_totals(
    registry: httpx.AsyncClient, tokens: TokenFactory, households: None
) -> None:
    table = await answer(
        registry, tokens, "analyst", measure="households", group_by="region,legal_status"
    )
    hidden = withheld(table)
    assert {("DJ-AS", "refugee"), ("DJ-OB", "national")} <= hidden  # the small ones
    shown = {cell: count for cell, count in cells(table).items() if count is not None}
    assert shown == {cell: count for cell, count in HOUSEHOLDS.items() if cell not in hidden}

    # Every total the analyst can read: the table's, and the groupings by one dimension
    # fewer (each region's, each status's), whose own withheld cells add up to what their
    # total leaves.
    lines = [(list(HOUSEHOLDS), table["total"])]
    for position, dimension in enumerate(("region", "legal_status")):
        margin = await answer(registry, tokens, "analyst", measure="households", group_by=dimension)
        assert margin["total"] == table["total"]
        left, unknown_groups = margin["total"], []
        for (value,), count in cells(margin).items():
            if count is None:
                unknown_groups.append(value)
                continue
            lines.append(([cell for cell in HOUSEHOLDS if cell[position] == value], count))
            left -= count
        if unknown_groups:
            lines.append(([cell for cell in HOUSEHOLDS if cell[position] in unknown_groups], left))
    # What the shown cells leave to the withheld ones.
    lines = [
        (
            [cell for cell in members if cell in hidden],
            total - sum(shown[cell] for cell in members if cell in shown),
        )
        for members, total in lines
    ]
    solutions = list(possible_tables(sorted(hidden), lines, most=table["total"]))
    assert {cell: HOUSEHOLDS[cell] for cell in hidden} in solutions  # the checker sees the truth
    # No withheld cell has only one possible value: none can be worked out.
    for cell in hidden:
        assert len({solution[cell] for solution in solutions}) > 1, cell
    # ...and each small one could be 5 or more, as far as the analyst can tell.
    for cell in (("DJ-AS", "refugee"), ("DJ-OB", "national")):
        assert max(solution[cell] for solution in solutions) >= 5, cell


async def test_data_managers_and_registrars_get_exact_counts(
    registry: httpx.AsyncClient, tokens: TokenFactory, households: None
) -> None:
    for role in ("data_manager", "admin", "registrar"):
        table = await answer(
            registry, tokens, role, measure="households", group_by="region,legal_status"
        )
        assert cells(table) == HOUSEHOLDS
        assert all("suppressed" not in row for row in table["rows"])
        assert table["disclosure_control"] is None
        assert table["total"] == 67


async def test_the_indicators_service_client_gets_exact_counts(
    registry: httpx.AsyncClient, registry_app: FastAPI, tokens: TokenFactory, households: None
) -> None:
    """Through the indicators service's own client and service token, as it computes."""

    class ServiceToken:
        async def token(self) -> str:
            return tokens.token(sub="client:svc-indicators", roles=["service"])

    http = create_http_client(
        "http://beneficiaries.test",
        token_provider=ServiceToken(),
        transport=httpx.ASGITransport(app=registry_app),
    )
    client = StatsClient(ServiceClient(http, "beneficiaries"), "/api/v1/beneficiaries")
    try:
        table = await client.stats("households", ["region", "legal_status"])
        assert {
            (row["region"], row["legal_status"]): row["count"] for row in table.rows
        } == HOUSEHOLDS
        obock = await client.stats("households", filters={"region": ["DJ-OB"]})
        assert obock.total == 2
        assert obock.rows == [{"count": 2}]
    finally:
        await http.aclose()


async def test_the_catalogue_publishes_the_threshold_and_the_rule(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    analyst = await registry.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst"))
    rule = analyst.json()["disclosure_control"]
    assert rule["threshold"] == 5
    assert rule["applies_to_caller"] is True
    assert set(rule["exact_for"]) == {"admin", "data_manager", "registrar", "service"}
    assert "threshold" in rule["rule"] and "suppressed" in rule["rule"]

    service = await registry.get(f"{STATS}/catalog", headers=as_role(tokens, "service"))
    assert service.json()["disclosure_control"]["applies_to_caller"] is False
    assert service.json()["disclosure_control"]["threshold"] == 5


async def test_the_threshold_setting_is_honoured(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    households: None,
    beneficiaries_db: Database,
) -> None:
    refugees = {"measure": "households", "group_by": "region", "legal_status": "refugee"}
    default = await answer(registry, tokens, "analyst", **refugees)
    assert cells(default) == {("DJ-AS",): None, ("DJ-DJ",): None, ("DJ-TA",): 8}

    app = create_app(registry_settings(tokens, stats_suppression_threshold=3))
    async with serve(app, beneficiaries_db, "http://beneficiaries.test") as lower:
        # 3 is no longer small; Obock's 2 still is.
        assert cells(await answer(lower, tokens, "analyst", **refugees)) == {
            ("DJ-AS",): 3,
            ("DJ-DJ",): 7,
            ("DJ-TA",): 8,
        }
        by_region = await answer(lower, tokens, "analyst", measure="households", group_by="region")
        assert ("DJ-OB",) in withheld(by_region)
        assert by_region["disclosure_control"]["threshold"] == 3
        catalog = await lower.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst"))
        assert catalog.json()["disclosure_control"]["threshold"] == 3

    app = create_app(registry_settings(tokens, stats_suppression_threshold=1))
    async with serve(app, beneficiaries_db, "http://beneficiaries.test") as off:
        table = await answer(
            off, tokens, "analyst", measure="households", group_by="region,legal_status"
        )
        assert cells(table) == HOUSEHOLDS


@pytest.mark.parametrize("threshold", [0, -1])
def test_a_threshold_below_one_is_refused(tokens: TokenFactory, threshold: int) -> None:
    with pytest.raises(ValueError, match="stats_suppression_threshold"):
        registry_settings(tokens, stats_suppression_threshold=threshold)


def test_possible_tables_finds_a_cell_the_totals_give_away() -> None:
    """The checker itself: one withheld cell in a line is found at once."""
    solutions = list(possible_tables([("a",)], [([("a",)], 3)], most=10))
    assert solutions == [{("a",): 3}]
    two = list(itertools.islice(possible_tables([("a",), ("b",)], [([("a",), ("b",)], 4)], 10), 9))
    assert {s[("a",)] for s in two} == {1, 2, 3}


async def test_a_sum_over_few_people_is_withheld_like_their_count(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    """Predicted consumption summed over Obock's one scored person would be that
    household's own figure: withheld by the people it adds up, not by its size in francs."""
    scored = {"DJ-OB": 1, "DJ-DJ": 6, "DJ-TA": 7}
    async with beneficiaries_db.sessionmaker() as session:
        for region, count in scored.items():
            for number in range(count):
                await add_household(
                    session,
                    [Person(f"Head{number}")],
                    locality=LOCALITY[region],
                    pmt_score=11.5,  # about 98,700 DJF a person a year
                )
        await session.commit()
    by_region = await answer(registry, tokens, "analyst", measure="consumption", group_by="region")
    assert withheld(by_region) == {("DJ-OB",), ("DJ-DJ",)}, "Obock, and the next smallest"
    assert cells(by_region)[("DJ-TA",)] is not None
    exact = await answer(registry, tokens, "data_manager", measure="consumption", group_by="region")
    assert cells(exact)[("DJ-OB",)] > 90_000
    assert "units" not in exact["rows"][0] and "units" not in by_region["rows"][0]
