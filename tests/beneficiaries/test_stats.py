"""`GET /stats` and `/stats/catalog`: exact counts on a small hand-built registry.

Ages on AS_OF (2026-06-30); PMT as predicted consumption in DJF per person per year.

- H1, Balbala PK12 (DJ-DJ, urban), PMT 59,999.4: head F 46 national; M 48, F 3, M 5 (the
  fifth birthday on AS_OF); enrolled in pnsf (active) and amu (active).
- H2, Ali Addeh refugee village (DJ-AS, rural), unscored, displaced: head M 71 refugee with
  a disability; F 16 refugee; pnsf (suspended).
- H3, Ali Sabieh ville (DJ-AS, urban), PMT 120,000: head M 26; F 17 (and an F who left);
  amu exited, then amu again (active).
- H4, Markazi (DJ-OB), dissolved: an asylum-seeker head; pnsf (active). Never counted.
- H5, Tadjourah ville (DJ-TA, urban), PMT 260,000, registered 2024-01-15: head F 64, 65 the
  day after AS_OF.
- H6, Balbala PK12 (DJ-DJ, urban), PMT 60,000.01, registered 2025-01-01: head M 31.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.beneficiaries.app import create_app
from services.beneficiaries.clock import age_on
from services.beneficiaries.models import Enrollment, Household, Programme
from services.beneficiaries.stats.catalog import years_before
from services.beneficiaries.vocabulary import AGE_GROUPS
from shared import clock
from shared.db import Database
from tests.beneficiaries.factories import Person, add_household
from tests.beneficiaries.helpers import BASE
from tests.support.apps import serve
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory

STATS = f"{BASE}/stats"
AS_OF = "2026-06-30"


def score(consumption: float) -> Decimal:
    """A PMT score as stored: ln(consumption) to 5 places."""
    return Decimal(str(round(math.log(consumption), 5)))


@dataclass
class Registry:
    households: dict[str, Household]
    secrets: list[str]  # names, ids, registry numbers, birth dates: never in an answer


@pytest.fixture
async def registry_data(registry: httpx.AsyncClient, beneficiaries_db: Database) -> Registry:
    """Needs the app started: its startup loads the administrative areas."""
    async with beneficiaries_db.sessionmaker() as session:
        h1 = await add_household(
            session,
            [
                Person("Fatouma", sex="F", birth_date=date(1980, 1, 1)),
                Person("Omar", sex="M", birth_date=date(1978, 5, 5), relationship_to_head="spouse"),
                Person("Hibo", sex="F", birth_date=date(2022, 7, 1), relationship_to_head="child"),
                Person(
                    "Ayanleh", sex="M", birth_date=date(2021, 6, 30), relationship_to_head="child"
                ),
            ],
            locality="DJ-DJ-BALBALA-PK12",
            pmt_score=Decimal("11.00209"),  # exp: 59,999.4
        )
        h2 = await add_household(
            session,
            [
                Person(
                    "Abdirahman",
                    sex="M",
                    birth_date=date(1955, 3, 1),
                    legal_status="refugee",
                    disability={"walking": 3},
                    identifiers=[("unhcr_individual", "ABC-12345678")],
                ),
                Person(
                    "Sagal",
                    sex="F",
                    birth_date=date(2010, 1, 1),
                    legal_status="refugee",
                    relationship_to_head="child",
                ),
            ],
            locality="DJ-AS-ALIADDEH-VILLAGE",
            displacement_status="refugee",
        )
        h3 = await add_household(
            session,
            [
                Person("Houssein", sex="M", birth_date=date(2000, 6, 30)),
                Person(
                    "Amina", sex="F", birth_date=date(2008, 7, 1), relationship_to_head="sibling"
                ),
                Person(
                    "Deka",
                    sex="F",
                    birth_date=date(2003, 2, 2),
                    relationship_to_head="sibling",
                    extra={"status": "left"},
                ),
            ],
            locality="DJ-AS-ALISABIEH-VILLE",
            pmt_score=score(120_000),
        )
        h4 = await add_household(
            session,
            [Person("Zahra", sex="F", birth_date=date(1991, 4, 4), legal_status="asylum_seeker")],
            locality="DJ-OB-OBOCK-MARKAZI",
            status="dissolved",
            pmt_score=score(40_000),
        )
        h5 = await add_household(
            session,
            [Person("Kadra", sex="F", birth_date=date(1961, 7, 1))],
            locality="DJ-TA-TADJOURAH-VILLE",
            registration_date=date(2024, 1, 15),
            pmt_score=score(260_000),
        )
        h6 = await add_household(
            session,
            [Person("Moussa", sex="M", birth_date=date(1995, 1, 1))],
            locality="DJ-DJ-BALBALA-PK12",
            registration_date=date(2025, 1, 1),
            pmt_score=Decimal("11.00210"),  # exp: 60,000.01
        )
        pnsf = programme("pnsf")
        amu = programme("amu")
        session.add_all([pnsf, amu])
        await session.flush()
        session.add_all(
            [
                enrollment(pnsf, h1, "active"),
                enrollment(amu, h1, "active"),
                enrollment(pnsf, h2, "suspended"),
                enrollment(amu, h3, "exited"),
                enrollment(amu, h3, "active"),
                enrollment(pnsf, h4, "active"),
            ]
        )
        await session.commit()
    households = {"H1": h1, "H2": h2, "H3": h3, "H4": h4, "H5": h5, "H6": h6}
    secrets = [
        *("Fatouma", "Omar", "Hibo", "Ayanleh", "Abdirahman", "Sagal", "Houssein", "Amina"),
        *("Kadra", "Moussa", "Farah", "ABC-12345678", "ABC12345678"),
        *("1980-01-01", "1955-03-01", "2000-06-30", "1961-07-01", "2021-06-30"),
    ]
    for household in households.values():
        secrets += [str(household.id), household.registry_number]
    return Registry(households, secrets)


def programme(code: str) -> Programme:
    return Programme(
        id=uuid.uuid4(),
        code=code,
        name_fr=f"Programme {code}",
        name_en=f"Programme {code}",
        benefit_amount=30_000,
        benefit_period="quarterly",
    )


def enrollment(programme: Programme, household: Household, status: str) -> Enrollment:
    return Enrollment(
        programme_id=programme.id,
        household_id=household.id,
        status=status,
        enrolled_on=date(2026, 1, 1),
        status_since=date(2026, 1, 1),
    )


async def stats(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    role: str = "data_manager",
    regions: list[str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    params.setdefault("as_of", AS_OF)
    response = await registry.get(
        STATS, params=params, headers=as_role(tokens, role, regions=regions)
    )
    assert response.status_code == 200, response.text
    return response.json()


def counts(answer: dict[str, Any]) -> dict[Any, int]:
    """rows as {dimension value (a tuple when several): count}, in the order returned."""
    result: dict[Any, int] = {}
    for row in answer["rows"]:
        key = tuple(row[name] for name in answer["group_by"])
        result[key[0] if len(key) == 1 else key] = row["count"]
    return result


def problem_paths(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["path"] for error in response.json()["errors"]]


# --- measures and their semantics ---------------------------------------------------------


async def test_households_count_active_households_with_the_head_for_person_dimensions(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    by_region = await stats(registry, tokens, measure="households", group_by="region")
    assert counts(by_region) == {"DJ-AS": 2, "DJ-DJ": 2, "DJ-TA": 1}
    assert by_region["total"] == 5  # H4, dissolved, is not counted

    by_sex = await stats(registry, tokens, measure="households", group_by="sex")
    assert counts(by_sex) == {"F": 2, "M": 3}  # heads only: H1 and H5 have women at the head

    by_region_sex = await stats(registry, tokens, measure="households", group_by="region,sex")
    assert counts(by_region_sex) == {
        ("DJ-AS", "M"): 2,
        ("DJ-DJ", "F"): 1,
        ("DJ-DJ", "M"): 1,
        ("DJ-TA", "F"): 1,
    }
    assert list(counts(by_region_sex)) == sorted(counts(by_region_sex))
    assert by_region_sex["total"] == 5

    by_status = await stats(registry, tokens, measure="households", group_by="legal_status")
    assert counts(by_status) == {"national": 4, "refugee": 1}


async def test_individuals_count_active_members_of_active_households(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    by_sex = await stats(registry, tokens, measure="individuals", group_by="sex")
    assert counts(by_sex) == {"F": 5, "M": 5}  # not the member who left, not H4's
    assert by_sex["total"] == 10

    by_region_status = await stats(
        registry, tokens, measure="individuals", group_by="region,legal_status"
    )
    assert counts(by_region_status) == {
        ("DJ-AS", "national"): 2,
        ("DJ-AS", "refugee"): 2,
        ("DJ-DJ", "national"): 5,
        ("DJ-TA", "national"): 1,
    }

    by_village = await stats(registry, tokens, measure="individuals", group_by="refugee_village")
    assert counts(by_village) == {False: 8, True: 2}


async def test_age_groups_are_ages_on_as_of(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    by_area_age = await stats(registry, tokens, measure="individuals", group_by="area,age_group")
    # In the natural order of age groups, not alphabetical.
    assert list(counts(by_area_age).items()) == [
        (("rural", "15-24"), 1),
        (("rural", "65+"), 1),
        (("urban", "0-4"), 1),
        (("urban", "5-14"), 1),  # fifth birthday on as_of
        (("urban", "15-24"), 1),
        (("urban", "25-64"), 5),
    ]

    day_before = await stats(
        registry, tokens, measure="individuals", group_by="age_group", as_of="2026-06-29"
    )
    assert counts(day_before)["0-4"] == 2
    assert "5-14" not in counts(day_before)
    assert day_before["as_of"] == "2026-06-29"

    heads_today = await stats(registry, tokens, measure="households", group_by="age_group")
    assert counts(heads_today) == {"25-64": 4, "65+": 1}
    heads_tomorrow = await stats(
        registry, tokens, measure="households", group_by="age_group", as_of="2026-07-01"
    )
    assert counts(heads_tomorrow) == {"25-64": 3, "65+": 2}

    before_births = await stats(
        registry, tokens, measure="individuals", group_by="age_group", as_of="2022-01-01"
    )
    assert counts(before_births)["not_yet_born"] == 1
    assert before_births["total"] == 10


async def test_default_as_of_is_today_in_djibouti(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    registry_data: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 22:30 on 30 June in UTC is already 1 July in Djibouti (UTC+3, all year).
    instant = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:
            return instant.astimezone(tz)

    monkeypatch.setattr(clock, "datetime", Frozen)
    response = await registry.get(
        STATS, params={"measure": "households"}, headers=as_role(tokens, "analyst")
    )
    assert response.json()["as_of"] == "2026-07-01"


async def test_pmt_bands_compare_predicted_consumption_with_the_edges(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    households = await stats(registry, tokens, measure="households", group_by="pmt_band")
    assert list(counts(households).items()) == [
        ("<60000", 1),  # 59,999.4
        ("60000-99999", 1),  # 60,000.01
        ("100000-149999", 1),
        (">=250000", 1),
        ("unscored", 1),
    ]
    individuals = await stats(registry, tokens, measure="individuals", group_by="pmt_band")
    assert counts(individuals) == {
        "<60000": 4,
        "60000-99999": 1,
        "100000-149999": 2,
        ">=250000": 1,
        "unscored": 2,
    }


async def test_pmt_bands_follow_the_settings(
    tokens: TokenFactory, beneficiaries_db: Database, registry_data: Registry
) -> None:
    app = create_app(registry_settings(tokens, pmt_band_edges=[100_000]))
    async with serve(app, beneficiaries_db, "http://beneficiaries.test") as client:
        answer = await stats(client, tokens, measure="households", group_by="pmt_band")
        catalog = (await client.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst"))).json()
    assert counts(answer) == {"<100000": 2, ">=100000": 2, "unscored": 1}
    band = next(d for d in catalog["dimensions"] if d["name"] == "pmt_band")
    assert [v["value"] for v in band["values"]] == ["<100000", ">=100000", "unscored"]


async def test_a_household_in_two_programmes_counts_in_both_groups_and_once_in_the_total(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    households = await stats(registry, tokens, measure="households", group_by="programme")
    # H1 in both; H3's exit and return is one household in amu; H5 and H6 are in none.
    assert counts(households) == {"amu": 2, "pnsf": 2, None: 2}
    assert households["total"] == 5

    by_status = await stats(
        registry, tokens, measure="households", group_by="programme,enrollment_status"
    )
    assert counts(by_status) == {
        ("amu", "active"): 2,
        ("amu", "exited"): 1,
        ("pnsf", "active"): 1,
        ("pnsf", "suspended"): 1,
        (None, None): 2,
    }
    assert by_status["total"] == 5

    individuals = await stats(registry, tokens, measure="individuals", group_by="region,programme")
    assert counts(individuals) == {
        ("DJ-AS", "amu"): 2,
        ("DJ-AS", "pnsf"): 2,
        ("DJ-DJ", "amu"): 4,
        ("DJ-DJ", "pnsf"): 4,
        ("DJ-DJ", None): 1,
        ("DJ-TA", None): 1,
    }
    assert individuals["total"] == 10

    enrolled = await stats(
        registry, tokens, measure="households", group_by="programme", enrollment_status="active"
    )
    assert counts(enrolled) == {"amu": 2, "pnsf": 1}
    assert enrolled["total"] == 2  # H1 and H3, H1 once


async def test_enrollments_count_enrollment_records_with_the_head(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    by_programme = await stats(
        registry, tokens, measure="enrollments", group_by="programme,enrollment_status"
    )
    assert counts(by_programme) == {
        ("amu", "active"): 2,
        ("amu", "exited"): 1,
        ("pnsf", "active"): 1,  # not H4's: dissolved
        ("pnsf", "suspended"): 1,
    }
    assert by_programme["total"] == 5

    by_sex = await stats(registry, tokens, measure="enrollments", group_by="sex")
    assert counts(by_sex) == {"F": 2, "M": 3}

    active_pnsf = await stats(
        registry, tokens, measure="enrollments", programme="pnsf", enrollment_status="active"
    )
    assert active_pnsf["rows"] == [{"count": 1}]
    assert active_pnsf["total"] == 1


async def test_more_household_dimensions(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    answer = await stats(
        registry,
        tokens,
        measure="households",
        group_by="commune,displacement_status,disability,refugee_village",
    )
    assert counts(answer) == {
        ("DJ-AS-ALIADDEH", "refugee", True, True): 1,
        ("DJ-AS-ALISABIEH", "none", False, False): 1,
        ("DJ-DJ-BALBALA", "none", False, False): 2,
        ("DJ-TA-TADJOURAH", "none", False, False): 1,
    }
    localities = await stats(registry, tokens, measure="individuals", group_by="locality")
    assert counts(localities)["DJ-DJ-BALBALA-PK12"] == 5


async def test_without_dimensions_one_row_holds_the_total(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    answer = await stats(registry, tokens, measure="individuals")
    assert answer["group_by"] == []
    assert answer["rows"] == [{"count": 10}]
    assert answer["total"] == 10


# --- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "filters", "total"),
    [
        ("households", {"region": "DJ-AS"}, 2),
        ("households", {"region": "DJ-AS,DJ-TA"}, 3),
        ("households", {"locality": "DJ-DJ-BALBALA-PK12"}, 2),
        ("households", {"area": "rural"}, 1),
        ("households", {"legal_status": "refugee"}, 1),  # the head's
        ("households", {"sex": "F"}, 2),  # headed by a woman; four have one
        ("households", {"age_group": "0-4"}, 0),
        ("individuals", {"legal_status": "refugee"}, 2),
        ("individuals", {"sex": "F", "region": "DJ-DJ"}, 2),
        ("households", {"programme": "pnsf"}, 2),
        ("households", {"programme": "pnsf", "enrollment_status": "active"}, 1),
        ("households", {"enrollment_status": "exited"}, 1),
        ("individuals", {"programme": "amu"}, 6),
        ("households", {"pmt_max": 60_000}, 1),  # 59,999.4 yes, 60,000.01 no
        ("households", {"pmt_min": 60_000}, 3),  # and not the unscored one
        ("households", {"pmt_min": 100_000, "pmt_max": 300_000}, 2),
        ("households", {"pmt_band": "unscored,<60000"}, 2),
        ("households", {"registered_to": "2025-12-31"}, 2),
        ("households", {"registered_from": "2025-01-01"}, 4),
        ("households", {"registered_from": "2025-01-01", "registered_to": "2025-01-01"}, 1),
        ("individuals", {"age_group": "0-4,65+"}, 2),
        ("households", {"disability": "true"}, 1),
        ("households", {"refugee_village": "false"}, 4),
        ("households", {"displacement_status": "refugee"}, 1),
        ("enrollments", {"region": "DJ-AS"}, 3),
        ("enrollments", {"sex": "F"}, 2),
    ],
)
async def test_filters(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    registry_data: Registry,
    measure: str,
    filters: dict[str, Any],
    total: int,
) -> None:
    answer = await stats(registry, tokens, measure=measure, **filters)
    assert answer["total"] == total
    assert answer["rows"] == [{"count": total}]


async def test_filters_are_reported_as_applied(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    response = await registry.get(
        STATS,
        params=[
            ("measure", "individuals"),
            ("group_by", "sex"),
            ("region", "DJ-DJ"),
            ("region", "DJ-AS,DJ-DJ"),
            ("disability", "false"),
            ("pmt_max", "200000"),
            ("registered_from", "2020-01-01"),
            ("as_of", AS_OF),
        ],
        headers=as_role(tokens, "service"),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["filters"] == {
        "region": ["DJ-DJ", "DJ-AS"],
        "disability": False,
        "pmt_max": 200000,
        "registered_from": "2020-01-01",
    }
    assert answer["measure"] == "individuals"
    # H2 is unscored (out with pmt_max), H5 in another region, H3's member who left is out.
    assert counts(answer) == {"F": 3, "M": 4}


# --- access -------------------------------------------------------------------------------


async def test_a_registrar_limited_to_regions_counts_only_there(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    limited = await stats(
        registry, tokens, "registrar", ["DJ-AS"], measure="households", group_by="region"
    )
    assert counts(limited) == {"DJ-AS": 2}
    assert limited["total"] == 2
    assert limited["filters"] == {"region": ["DJ-AS"]}

    individuals = await stats(
        registry, tokens, "registrar", ["DJ-AS", "DJ-TA"], measure="individuals"
    )
    assert individuals["total"] == 5

    elsewhere = await registry.get(
        STATS,
        params={"measure": "households", "region": "DJ-AS,DJ-DJ"},
        headers=as_role(tokens, "registrar", regions=["DJ-AS"]),
    )
    assert elsewhere.status_code == 403
    assert elsewhere.headers["content-type"] == "application/problem+json"
    for place in ({"locality": "DJ-DJ-BALBALA-PK12"}, {"commune": "DJ-TA-TADJOURAH"}):
        other_region = await registry.get(
            STATS,
            params={"measure": "households", **place},
            headers=as_role(tokens, "registrar", regions=["DJ-AS"]),
        )
        assert other_region.status_code == 403, place
    own_locality = await stats(
        registry,
        tokens,
        "registrar",
        ["DJ-AS"],
        measure="households",
        locality="DJ-AS-ALIADDEH-VILLAGE",
    )
    assert own_locality["total"] == 1

    unlimited = await stats(registry, tokens, "registrar", measure="households")
    assert unlimited["total"] == 5
    manager = await stats(registry, tokens, "data_manager", ["DJ-AS"], measure="households")
    assert manager["total"] == 5  # region claims limit registrars only


@pytest.mark.parametrize("role", ["admin", "data_manager", "registrar", "analyst", "service"])
async def test_stats_readers(registry: httpx.AsyncClient, tokens: TokenFactory, role: str) -> None:
    headers = as_role(tokens, role)
    assert (
        await registry.get(STATS, params={"measure": "households"}, headers=headers)
    ).status_code == 200
    assert (await registry.get(f"{STATS}/catalog", headers=headers)).status_code == 200


@pytest.mark.parametrize("role", ["partner", "finance_officer", "system"])
async def test_other_roles_are_refused(
    registry: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    headers = as_role(tokens, role)
    assert (
        await registry.get(STATS, params={"measure": "households"}, headers=headers)
    ).status_code == 403
    assert (await registry.get(f"{STATS}/catalog", headers=headers)).status_code == 403
    assert (await registry.get(STATS, params={"measure": "households"})).status_code == 401


async def test_an_analyst_sees_no_personal_data(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    answers = []
    for measure in ("households", "individuals", "enrollments"):
        for group_by in (
            "region,commune,locality,area,refugee_village",
            "displacement_status,pmt_band,sex,age_group,legal_status",
            "disability,programme,enrollment_status",
        ):
            response = await registry.get(
                STATS,
                params={"measure": measure, "group_by": group_by, "as_of": "2026-07-01"},
                headers=as_role(tokens, "analyst"),
            )
            assert response.status_code == 200, response.text
            answers.append(response)
    answers.append(await registry.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst")))
    for response in answers:
        for secret in registry_data.secrets:
            assert secret not in response.text
        for row in response.json().get("rows", []):
            assert set(row) <= {*response.json()["group_by"], "count", "suppressed"}
            # A count, or withheld: this registry's cells are all small.
            assert isinstance(row["count"], int) or row == {
                **row,
                "count": None,
                "suppressed": True,
            }


# --- bad requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"measure": "people"}, "query.measure"),
        ({}, "query.measure"),
        ({"measure": "households", "group_by": "region,income"}, "query.group_by"),
        ({"measure": "households", "group_by": "region,sex,region"}, "query.group_by"),
        ({"measure": "households", "group_by": "region,"}, "query.group_by"),
        (
            {
                "measure": "households",
                "group_by": "region,area,sex,age_group,legal_status,programme",
            },
            "query.group_by",
        ),
        ({"measure": "households", "sex": "X"}, "query.sex"),
        ({"measure": "households", "area": "urban,suburban"}, "query.area"),
        ({"measure": "households", "legal_status": "citizen"}, "query.legal_status"),
        ({"measure": "households", "enrollment_status": "paused"}, "query.enrollment_status"),
        ({"measure": "households", "age_group": "0-5"}, "query.age_group"),
        ({"measure": "households", "pmt_band": "<50000"}, "query.pmt_band"),
        ({"measure": "households", "region": ""}, "query.region"),
        ({"measure": "households", "pmt_min": "0"}, "query.pmt_min"),
        ({"measure": "households", "pmt_min": "lots"}, "query.pmt_min"),
        ({"measure": "households", "pmt_min": "90000", "pmt_max": "80000"}, "query.pmt_max"),
        (
            {
                "measure": "households",
                "registered_from": "2026-02-01",
                "registered_to": "2026-01-01",
            },
            "query.registered_to",
        ),
        ({"measure": "households", "as_of": "2026-02-30"}, "query.as_of"),
        ({"measure": "households", "disability": "maybe"}, "query.disability"),
        ({"measure": "households", "regoin": "DJ-AS"}, "query.regoin"),
    ],
)
async def test_invalid_requests_are_422_with_the_parameter(
    registry: httpx.AsyncClient, tokens: TokenFactory, params: dict[str, str], path: str
) -> None:
    response = await registry.get(STATS, params=params, headers=as_role(tokens, "analyst"))
    assert problem_paths(response) == [path]


async def test_unknown_codes_are_422_not_zero(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    headers = as_role(tokens, "analyst")
    response = await registry.get(
        STATS,
        params={"measure": "households", "region": "DJ-AS,DJ-XX", "programme": "pnsf,pnfs"},
        headers=headers,
    )
    assert sorted(problem_paths(response)) == ["query.programme", "query.region"]
    messages = " ".join(error["message"] for error in response.json()["errors"])
    assert "DJ-XX" in messages and "pnfs" in messages
    assert "DJ-AS" not in messages and "pnsf," not in messages

    # A region's code is not a locality's.
    wrong_level = await registry.get(
        STATS, params={"measure": "households", "locality": "DJ-AS"}, headers=headers
    )
    assert problem_paths(wrong_level) == ["query.locality"]

    known = await registry.get(
        STATS,
        params={"measure": "households", "commune": "DJ-AS-ALIADDEH", "programme": "pnsf"},
        headers=as_role(tokens, "data_manager"),
    )
    assert known.status_code == 200
    assert known.json()["total"] == 1


# --- catalogue ----------------------------------------------------------------------------


async def test_the_catalogue_lists_measures_dimensions_values_and_filters(
    registry: httpx.AsyncClient, tokens: TokenFactory, registry_data: Registry
) -> None:
    response = await registry.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst"))
    assert response.status_code == 200
    catalog = response.json()
    assert [m["name"] for m in catalog["measures"]] == [
        "households",
        "individuals",
        "enrollments",
        "consumption",
        "poor_individuals",
        "poverty_gap",
        "poverty_gap_squared",
        "poverty_gap_ratio",
        "poverty_gap_ratio_squared",
        "pmt_eligible",
    ]
    kinds = {m["name"]: (m["kind"], m["parameters"]) for m in catalog["measures"]}
    assert kinds["households"] == ("count", [])
    assert kinds["consumption"] == ("sum", [])
    assert kinds["poverty_gap"] == ("sum", ["poverty_lines"])
    assert kinds["poverty_gap_ratio"] == ("sum", ["poverty_lines"])
    assert (
        "head" in next(m for m in catalog["measures"] if m["name"] == "households")["description"]
    )
    assert catalog["max_dimensions"] == 5

    dimensions = {d["name"]: d for d in catalog["dimensions"]}
    assert set(dimensions) == {
        *("region", "commune", "locality", "area", "refugee_village", "displacement_status"),
        *("pmt_band", "sex", "age_group", "legal_status", "disability", "programme"),
        "enrollment_status",
    }

    def values(name: str) -> list[Any]:
        return [value["value"] for value in dimensions[name]["values"]]

    assert values("sex") == ["F", "M"]
    assert values("area") == ["urban", "rural"]
    assert values("legal_status") == ["national", "refugee", "asylum_seeker", "migrant", "other"]
    assert values("age_group") == ["not_yet_born", "0-4", "5-14", "15-24", "25-64", "65+"]
    assert values("pmt_band") == [
        *("<60000", "60000-99999", "100000-149999", "150000-249999", ">=250000"),
        "unscored",
    ]
    assert values("enrollment_status") == ["active", "suspended", "exited"]
    assert values("disability") == [True, False]
    assert values("region") == ["DJ-AR", "DJ-AS", "DJ-DI", "DJ-DJ", "DJ-OB", "DJ-TA"]
    assert {"value": "DJ-AS", "label": "Ali Sabieh"} in dimensions["region"]["values"]
    assert "DJ-OB-OBOCK-MARKAZI" in values("locality")
    assert "DJ-DJ-BALBALA" in values("commune")
    assert values("programme") == ["amu", "pnsf"]  # read from the table
    assert dimensions["displacement_status"]["values"] is None
    assert dimensions["sex"]["level"] == "person"
    assert dimensions["programme"]["level"] == "enrollment"

    filters = {f["name"]: f["type"] for f in catalog["filters"]}
    assert filters["region"] == "list[string]"
    assert filters["disability"] == "boolean"
    assert filters["pmt_min"] == filters["pmt_max"] == "integer"
    assert filters["registered_from"] == filters["registered_to"] == "date"
    assert set(filters) == set(dimensions) | {
        "pmt_min",
        "pmt_max",
        "registered_from",
        "registered_to",
    }


# --- the age arithmetic, without the database ---------------------------------------------


@pytest.mark.parametrize("as_of", [date(2026, 6, 30), date(2024, 2, 29), date(2025, 2, 28)])
def test_age_cut_offs_agree_with_age_on(as_of: date) -> None:
    """Someone is at least n on as_of exactly when born on or before years_before(as_of, n)."""
    for lowest, _ in AGE_GROUPS[1:]:
        cut_off = years_before(as_of, lowest)
        for birth in (cut_off - timedelta(days=1), cut_off, cut_off + timedelta(days=1)):
            assert (age_on(birth, as_of) >= lowest) == (birth <= cut_off), (birth, lowest)
    leap_born = date(2020, 2, 29)
    assert (age_on(leap_born, as_of) >= 5) == (leap_born <= years_before(as_of, 5))


def _consumption(stored: Decimal) -> Decimal:
    """What a stored score predicts: exp(score), DJF per person per year."""
    return stored.exp()


async def test_predicted_consumption_and_the_fgt_sums_against_a_line(
    registry: httpx.AsyncClient, registry_data: Registry, tokens: TokenFactory
) -> None:
    """Active people of active scored households: H1 4 people at exp(11.00209) (59,999.4),
    H3 2 (Deka left) at 120,000, H5 1 at 260,000, H6 1 at exp(11.00210) (60,000.01); H2 is
    unscored, H4 dissolved. Below a line of 100,000: H1's 4 and H6's 1."""
    y1, y3 = _consumption(Decimal("11.00209")), _consumption(score(120_000))
    y5, y6 = _consumption(score(260_000)), _consumption(Decimal("11.00210"))
    line = Decimal(100_000)
    total = await stats(registry, tokens, measure="consumption")
    assert total["total"] == round(4 * y1 + 2 * y3 + y5 + y6)
    poor = await stats(registry, tokens, measure="poor_individuals", poverty_line=100_000)
    assert poor["total"] == 5
    gap = await stats(
        registry, tokens, measure="poverty_gap", poverty_line=100_000, group_by="region"
    )
    assert gap["total"] == round(4 * (line - y1) + (line - y6))
    # Rows are the groups that have people, whether or not they fall below the line.
    assert {row["region"]: row["count"] for row in gap["rows"]} == {
        "DJ-DJ": round(4 * (line - y1) + (line - y6)),
        "DJ-AS": 0,
        "DJ-TA": 0,
    }
    squared = await stats(registry, tokens, measure="poverty_gap_squared", poverty_line=100_000)
    assert squared["total"] == round(4 * (line - y1) ** 2 + (line - y6) ** 2)
    # By programme (H1 is in pnsf and amu): each group sums its own people once, the total
    # everyone once.
    by_programme = await stats(
        registry, tokens, measure="poor_individuals", poverty_line=100_000, group_by="programme"
    )
    assert {row["programme"]: row["count"] for row in by_programme["rows"]} == {
        "amu": 4,
        "pnsf": 4,
        None: 1,
    }
    assert by_programme["total"] == 5

    for params, path in (
        ({"measure": "poverty_gap"}, "query.poverty_lines"),
        ({"measure": "households", "poverty_line": 9}, "query.poverty_line"),
        ({"measure": "households", "poverty_lines": "urban:9,rural:9"}, "query.poverty_lines"),
        (
            {"measure": "poverty_gap", "poverty_line": 9, "poverty_lines": "urban:9,rural:9"},
            "query.poverty_lines",
        ),
        ({"measure": "poverty_gap", "poverty_lines": "urban:9"}, "query.poverty_lines"),
        ({"measure": "poverty_gap", "poverty_lines": "urban:9,rural:9,urban:8"}, None),
        ({"measure": "poverty_gap", "poverty_lines": "urban:9,suburban:9"}, None),
        ({"measure": "poverty_gap", "poverty_lines": "urban:9,rural:-1"}, None),
        ({"measure": "poverty_gap", "poverty_lines": "urban:9,rural:lots"}, None),
    ):
        refused = await registry.get(STATS, params=params, headers=as_role(tokens, "analyst"))
        assert refused.status_code == 422, params
        assert refused.json()["errors"][0]["path"] == (path or "query.poverty_lines")


def _ratio_sum(*parts: tuple[int, Decimal, Decimal], power: int = 1) -> float:
    """sum of people x ((line - y) / line)^power, to 6 places, as the registry gives it."""
    exact = sum(people * ((line - y) / line) ** power for people, y, line in parts)
    return float(Decimal(exact).quantize(Decimal("0.000001")))


async def test_the_fgt_sums_against_the_line_of_each_area_in_one_request(
    registry: httpx.AsyncClient, registry_data: Registry, tokens: TokenFactory
) -> None:
    """The scored households are urban (H1, H3, H5, H6): an urban line of 100,000 holds
    for them whatever the rural one; a rural line that everyone is below changes nothing.
    Asked together, individuals and the poverty measures come in one answer."""
    y1, y6 = _consumption(Decimal("11.00209")), _consumption(Decimal("11.00210"))
    z = Decimal(100_000)
    answer = await stats(
        registry,
        tokens,
        measures="individuals,poor_individuals,poverty_gap_ratio,poverty_gap_ratio_squared",
        poverty_lines="urban:100000,rural:900000",
        group_by="region",
    )
    assert (answer["measure"], answer["total"]) == (None, None)
    assert answer["measures"][0] == "individuals"
    assert answer["filters"]["poverty_lines"] == ["urban:100000", "rural:900000"]
    p1 = _ratio_sum((4, y1, z), (1, y6, z))
    p2 = _ratio_sum((4, y1, z), (1, y6, z), power=2)
    assert answer["totals"] == {
        "individuals": 10,
        "poor_individuals": 5,
        "poverty_gap_ratio": pytest.approx(p1, abs=1e-6),
        "poverty_gap_ratio_squared": pytest.approx(p2, abs=1e-6),
    }
    rows = {row.pop("region"): row for row in answer["rows"]}
    assert rows["DJ-DJ"]["individuals"] == 5 and rows["DJ-DJ"]["poor_individuals"] == 5
    assert rows["DJ-DJ"]["poverty_gap_ratio"] == pytest.approx(p1, abs=1e-6)
    # H2's people (rural, unscored) are counted, never below a line.
    assert rows["DJ-AS"]["individuals"] == 4 and rows["DJ-AS"]["poor_individuals"] == 0
    assert rows["DJ-TA"]["poverty_gap_ratio_squared"] == 0

    # An urban line of 60,000: H1 (59,999.4) is below it, H6 (60,000.01) is not.
    urban = await stats(
        registry,
        tokens,
        measure="poverty_gap_ratio",
        poverty_lines="rural:900000,urban:60000",
    )
    assert urban["total"] == pytest.approx(_ratio_sum((4, y1, Decimal(60_000))), abs=1e-6)

    for params in (
        {"measures": "households,individuals"},
        {"measures": "individuals,enrollments"},
        {"measure": "individuals", "measures": "individuals,consumption"},
        {"measures": "individuals,individuals"},
    ):
        refused = await registry.get(STATS, params=params, headers=as_role(tokens, "analyst"))
        assert refused.status_code == 422, params
        assert refused.json()["errors"][0]["path"] in ("query.measure", "query.measures")


async def test_measures_asked_together_are_each_protected_as_if_alone(
    registry: httpx.AsyncClient, registry_data: Registry, tokens: TokenFactory
) -> None:
    asked = {"as_of": "2026-06-01", "group_by": "region"}
    together = await stats(registry, tokens, "analyst", measures="individuals,consumption", **asked)
    for measure in ("individuals", "consumption"):
        alone = await stats(registry, tokens, "analyst", measure=measure, **asked)
        assert [row.get(measure) for row in together["rows"]] == [
            row["count"] for row in alone["rows"]
        ]
        assert together["totals"][measure] == alone["total"]
    # The threshold is 5. People: Djibouti 5, Ali Sabieh 4 and Tadjourah 1, the last two
    # withheld. Consumption: of 5, 2 (H2 is unscored) and 1 people, so Djibouti is withheld
    # too (the total would give it away). A row withheld for one measure says so.
    rows = {row["region"]: row for row in together["rows"]}
    assert rows["DJ-DJ"]["individuals"] == 5 and rows["DJ-DJ"]["consumption"] is None
    assert all(row["suppressed"] for row in rows.values())
    assert together["disclosure_control"]["suppressed_rows"] == 3


async def test_pmt_eligibility_by_programme_and_status(
    registry: httpx.AsyncClient,
    registry_data: Registry,
    beneficiaries_db: Database,
    tokens: TokenFactory,
) -> None:
    """Thresholds: pnsf 130,000, amu 125,000. Below both: H1 (59,999.4; active in both),
    H3 (120,000; amu exited then active again, not in pnsf), H6 (60,000.01; not enrolled).
    H2 is unscored, H4 dissolved, H5 above both."""
    async with beneficiaries_db.sessionmaker() as session:
        for code, threshold in (("pnsf", 130_000), ("amu", 125_000)):
            programme = await session.scalar(select(Programme).where(Programme.code == code))
            assert programme is not None
            programme.pmt_max_consumption = threshold
        await session.commit()
    answer = await stats(
        registry, tokens, measure="pmt_eligible", group_by="programme,enrollment_status"
    )
    assert {(r["programme"], r["enrollment_status"]): r["count"] for r in answer["rows"]} == {
        ("amu", "active"): 2,
        ("amu", None): 1,
        ("pnsf", "active"): 1,
        ("pnsf", None): 2,
    }
    assert answer["total"] == 6
    active = await stats(
        registry, tokens, measure="pmt_eligible", group_by="programme", enrollment_status="active"
    )
    assert {r["programme"]: r["count"] for r in active["rows"]} == {"amu": 2, "pnsf": 1}
    women = await stats(registry, tokens, measure="pmt_eligible", sex="F", programme="pnsf")
    assert women["total"] == 1  # H1's head; H3's and H6's are men
