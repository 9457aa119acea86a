"""A small registry, written by hand, whose indicator values the tests work out by hand.

    H1  DJ-DJ (Balbala)         head F national, spouse M national, child F national
                                pnsf active     predicted 50,000 registered 2026-03-01
    H2  DJ-AS (Ali Addeh)       head M refugee, child F refugee
                                pnsf active     predicted 80,000 registered 2026-03-01
    H3  DJ-AS (Ali Sabieh)      head M national, sister F national
                                not enrolled   predicted 150,000 registered 2026-05-10
    H4  DJ-OB (Markazi)         head F asylum seeker
                                amu suspended   no PMT score     registered 2026-03-01

(predicted: DJF per person per year, exp of the stored score: see `predicted`). PMT
thresholds: pnsf 160,000 (H1, H2 and H3 below it), amu 60,000 (H1 below it).

The population of 2026, by region, sex and legal status (340 people):

    DJ-DJ  F national 100   M national 100
    DJ-AS  F national  40   M national  40   F refugee 10   M refugee 10
    DJ-OB  F national  20   M national  20
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from services.beneficiaries.models import Enrollment, Household, Programme
from shared.db import Database
from tests.beneficiaries.factories import Person, add_household
from tests.indicators.payloads import BASE, POPULATION, definition_body

VALUES = f"{BASE}/values"

POPULATION_CSV = b"""year,region,sex,legal_status,people
2026,DJ-DJ,F,national,100
2026,DJ-DJ,M,national,100
2026,DJ-AS,F,national,40
2026,DJ-AS,M,national,40
2026,DJ-AS,F,refugee,10
2026,DJ-AS,M,refugee,10
2026,DJ-OB,F,national,20
2026,DJ-OB,M,national,20
"""


CONSUMPTION = {"H1": 50_000, "H2": 80_000, "H3": 150_000}


def score(consumption: int) -> Decimal:
    """The PMT score as the registry stores it: ln(consumption) to 5 places."""
    return Decimal(str(round(math.log(consumption), 5)))


def predicted(household: str) -> Decimal:
    """What the stored score predicts (within a franc of CONSUMPTION)."""
    return score(CONSUMPTION[household]).exp()


@dataclass
class RegistrySet:
    households: dict[str, Household]


def _programme(code: str, threshold: int) -> Programme:
    return Programme(
        id=uuid.uuid4(),
        code=code,
        pmt_max_consumption=threshold,
        name_fr=f"Programme {code}",
        name_en=f"Programme {code}",
        benefit_amount=30_000,
        benefit_period="quarterly",
    )


def _enrollment(programme: Programme, household: Household, status: str) -> Enrollment:
    return Enrollment(
        programme_id=programme.id,
        household_id=household.id,
        status=status,
        enrolled_on=date(2026, 3, 1),
        status_since=date(2026, 3, 1),
    )


async def add_registry_set(database: Database) -> RegistrySet:
    """Needs the registry started: its startup loads the administrative areas."""
    async with database.sessionmaker() as session:
        h1 = await add_household(
            session,
            [
                Person("Fatouma", sex="F"),
                Person("Omar", sex="M", relationship_to_head="spouse"),
                Person("Hibo", sex="F", birth_date=date(2019, 7, 1), relationship_to_head="child"),
            ],
            locality="DJ-DJ-BALBALA-PK12",
            pmt_score=score(CONSUMPTION["H1"]),
        )
        h2 = await add_household(
            session,
            [
                Person("Abdirahman", sex="M", legal_status="refugee"),
                Person(
                    "Sagal",
                    sex="F",
                    birth_date=date(2012, 1, 1),
                    legal_status="refugee",
                    relationship_to_head="child",
                ),
            ],
            locality="DJ-AS-ALIADDEH-VILLAGE",
            displacement_status="refugee",
            pmt_score=score(CONSUMPTION["H2"]),
        )
        h3 = await add_household(
            session,
            [
                Person("Houssein", sex="M"),
                Person("Amina", sex="F", relationship_to_head="sibling"),
            ],
            locality="DJ-AS-ALISABIEH-VILLE",
            registration_date=date(2026, 5, 10),
            pmt_score=score(CONSUMPTION["H3"]),
        )
        h4 = await add_household(
            session,
            [Person("Zahra", sex="F", legal_status="asylum_seeker")],
            locality="DJ-OB-OBOCK-MARKAZI",
        )
        pnsf, amu = _programme("pnsf", 160_000), _programme("amu", 60_000)
        session.add_all([pnsf, amu])
        await session.flush()
        session.add_all(
            [
                _enrollment(pnsf, h1, "active"),
                _enrollment(pnsf, h2, "active"),
                _enrollment(amu, h4, "suspended"),
            ]
        )
        await session.commit()
    return RegistrySet({"H1": h1, "H2": h2, "H3": h3, "H4": h4})


async def upload_population(
    indicators: httpx.AsyncClient, officer: dict[str, str], content: bytes = POPULATION_CSV
) -> None:
    answer = await indicators.post(
        POPULATION,
        files={"file": ("population-2026.csv", content, "text/csv")},
        data={"source": "INSD, projections 2026"},
        headers=officer,
    )
    assert answer.status_code == 201, answer.text


def sdg131(**overrides: Any) -> dict[str, Any]:
    return definition_body(
        "SDG131",
        name_en="Population covered by at least one programme",
        numerator="#{individuals|enrollment_status=active}",
        denominator="#{population}",
        disaggregations=["region", "sex", "legal_status"],
        periodicity="year",
        sdg_code="1.3.1",
        **overrides,
    )


def female_heads() -> dict[str, Any]:
    return definition_body(
        "HH_FEMALE_HEAD",
        name_en="Beneficiary households headed by women",
        numerator="#{households|enrollment_status=active, sex=F}",
        denominator="#{households|enrollment_status=active}",
        disaggregations=["region"],
        periodicity="year",
    )


async def get_values(
    indicators: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Any]:
    answer = await indicators.get(VALUES, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def by_cell(answer: dict[str, Any], indicator: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {
        tuple(value["cell"].values()): value
        for value in answer["values"]
        if value["indicator"] == indicator
    }


def percent(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator) * 100).quantize(Decimal("0.000001"))


class Down(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)
