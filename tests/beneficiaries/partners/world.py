"""A small registry for partner tests: the households a partner allowed the names and
programmes of refugee households in Obock may see, and every kind it must not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from services.beneficiaries.clock import today
from services.beneficiaries.models import Enrollment, Household, Individual, Programme
from shared.db import Database
from tests.beneficiaries.factories import Person, add_household
from tests.beneficiaries.helpers import BASE
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

SHARING = ["registry", "programmes", "partner_sharing"]
NO_SHARING = ["registry", "programmes"]
NAMES = ["given_name", "father_name", "grandfather_name"]


@dataclass
class World:
    visible: Household
    visible_people: dict[str, uuid.UUID]  # given name -> id, the refugees of `visible`
    hidden: list[Household]
    # Every value of the registry a names-and-programmes partner must never receive: the
    # personal ones, and the categories (locations, statuses) outside its fields.
    secrets: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def _programme(code: str, name: str) -> Programme:
    return Programme(
        code=code, name_fr=name, name_en=name, benefit_amount=30_000, benefit_period="quarterly"
    )


async def build(database: Database) -> World:
    async with database.sessionmaker() as session:
        pnsf, other = _programme("pnsf", "PNSF"), _programme("cantine", "Cantines scolaires")
        session.add_all([pnsf, other])
        await session.flush()

        async def household(
            people: list[Person], locality: str, scope: list[str], programme: Programme | None
        ) -> Household:
            row = await add_household(
                session,
                people,
                locality=locality,
                consent_given=True,
                consent_date=date(2026, 3, 1),
                consent_scope=scope,
                address="Rue secrète 12",
            )
            if programme is not None:
                session.add(
                    Enrollment(
                        programme_id=programme.id,
                        household_id=row.id,
                        enrolled_on=date(2026, 4, 1),
                        status_since=date(2026, 4, 1),
                    )
                )
            return row

        refugee = "refugee"
        visible = await household(
            [
                Person(
                    "Amina",
                    "Yusuf",
                    "Abdi",
                    legal_status=refugee,
                    identifiers=[("unhcr_individual", "UNHCR111"), ("phone", "+25377001122")],
                ),
                Person(
                    "Sagal",
                    "Amina",
                    "Yusuf",
                    relationship_to_head="child",
                    birth_date=date(2015, 2, 3),
                    legal_status=refugee,
                ),
                # A national spouse of the refugee head: not a person the agreement covers.
                Person(
                    "Nasra",
                    "Kadir",
                    "Moussa",
                    relationship_to_head="spouse",
                    legal_status="national",
                    identifiers=[("national_id", "NID999001")],
                ),
            ],
            "DJ-OB-OBOCK-MARKAZI",
            SHARING,
            pnsf,
        )
        # Also enrolled in a programme outside the agreement: never named to the partner.
        session.add(
            Enrollment(
                programme_id=other.id,
                household_id=visible.id,
                enrolled_on=date(2026, 5, 1),
                status_since=date(2026, 5, 1),
            )
        )
        hidden = [
            # No consent to partner sharing.
            await household(
                [
                    Person(
                        "Hawa",
                        "Ismail",
                        "Daher",
                        legal_status=refugee,
                        identifiers=[("unhcr_individual", "UNHCR222")],
                    )
                ],
                "DJ-OB-OBOCK-MARKAZI",
                NO_SHARING,
                pnsf,
            ),
            # Another region.
            await household(
                [
                    Person(
                        "Deka",
                        "Ibrahim",
                        "Elmi",
                        legal_status=refugee,
                        identifiers=[("unhcr_individual", "UNHCR333")],
                    )
                ],
                "DJ-AS-ALIADDEH-VILLAGE",
                SHARING,
                pnsf,
            ),
            # Nationals only.
            await household(
                [Person("Roukia", "Houmed", "Ali")], "DJ-OB-OBOCK-MARKAZI", SHARING, pnsf
            ),
            # Not in the agreement's programme.
            await household(
                [
                    Person(
                        "Idil",
                        "Warsame",
                        "Nur",
                        legal_status=refugee,
                        identifiers=[("unhcr_individual", "UNHCR444")],
                    )
                ],
                "DJ-OB-OBOCK-MARKAZI",
                SHARING,
                other,
            ),
        ]
        await session.flush()
        rows = (
            await session.execute(
                select(Individual.id, Individual.given_name, Individual.household_id)
            )
        ).all()
        numbers = (await session.execute(select(Household.id, Household.registry_number))).all()
        await session.commit()

    visible_people = {name: pid for pid, name, hid in rows if hid == visible.id and name != "Nasra"}
    secrets = [
        "Nasra",
        "Kadir",
        "Hawa",
        "Deka",
        "Roukia",
        "Idil",
        "Cantines",
        "cantine",
        "UNHCR111",
        "UNHCR222",
        "UNHCR333",
        "UNHCR444",
        "NID999001",
        "77001122",
        "Rue secrète",
        "1990-05-17",
        "2015-02-03",
    ]
    secrets += [str(pid) for pid, _, _ in rows] + [str(hid) for hid, _ in numbers]
    secrets += [number for _, number in numbers]
    categories = ["DJ-OB-OBOCK-MARKAZI", "DJ-AS", "refugee", "national"]
    return World(visible, visible_people, hidden, secrets, categories)


async def national_headed_refugee_household(database: Database) -> None:
    """A national head with a refugee child, in Obock, sharing, in PNSF."""
    async with database.sessionmaker() as session:
        household = await add_household(
            session,
            [
                Person("Fardoussa", "Omar", "Aden", legal_status="national"),
                Person(
                    "Ilhan",
                    "Omar",
                    "Aden",
                    relationship_to_head="child",
                    birth_date=date(2016, 1, 1),
                    legal_status="refugee",
                ),
            ],
            locality="DJ-OB-OBOCK-MARKAZI",
            consent_given=True,
            consent_date=date(2026, 3, 1),
            consent_scope=SHARING,
        )
        pnsf = await session.scalar(select(Programme).where(Programme.code == "pnsf"))
        assert pnsf is not None
        session.add(
            Enrollment(
                programme_id=pnsf.id,
                household_id=household.id,
                enrolled_on=date(2026, 4, 1),
                status_since=date(2026, 4, 1),
            )
        )
        await session.commit()


def agreement_body(partner_id: str = "wfp-dj", **fields: Any) -> dict[str, Any]:
    """Names and programmes of refugee households in Obock enrolled in PNSF."""
    body: dict[str, Any] = {
        "partner_id": partner_id,
        "purpose": "Refugee inclusion in the national safety net",
        "legal_basis": "Protocol MASS-WFP 2026, article 4",
        "allowed_fields": [*NAMES, "programmes"],
        "allowed_programmes": ["pnsf"],
        "allowed_regions": ["DJ-OB"],
        "allowed_legal_statuses": ["refugee"],
        "allowed_query_types": ["predicate", "idtype-value"],
        "valid_from": (today() - timedelta(days=30)).isoformat(),
        "valid_to": (today() + timedelta(days=335)).isoformat(),
        "daily_request_quota": 1000,
        "identifiers": "pseudonymised",
    }
    body.update(fields)
    return body


async def add_agreement(
    client: httpx.AsyncClient, tokens: TokenFactory, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/agreements", json=agreement_body(**fields), headers=as_role(tokens, "data_manager")
    )
    assert response.status_code == 201, response.text
    return response.json()


def partner(tokens: TokenFactory, partner_id: str = "wfp-dj") -> dict[str, str]:
    return tokens.bearer(sub=f"client:{partner_id}", roles=["partner"], partner_id=partner_id)


def search_message(
    *requests: dict[str, Any],
    sender_id: str = "wfp-dj",
    message_id: str | None = None,
    **header: Any,
) -> dict[str, Any]:
    return {
        "signature": None,
        "header": {
            "version": "1.0.0",
            "message_id": message_id or str(uuid.uuid4()),
            "message_ts": "2026-12-03T08:00:00Z",
            "action": "search",
            "sender_id": sender_id,
            "receiver_id": "registry.inds.gov.dj",
            "total_count": len(requests),
            "is_msg_encrypted": False,
            **header,
        },
        "message": {"transaction_id": str(uuid.uuid4()), "search_request": list(requests)},
    }


def search_request(
    query_type: str, query: Any, reference_id: str = "r1", **criteria: Any
) -> dict[str, Any]:
    return {
        "reference_id": reference_id,
        "timestamp": "2026-12-03T08:00:00Z",
        "search_criteria": {
            "version": "1.0.0",
            "query_type": query_type,
            "query": query,
            **criteria,
        },
        "locale": "eng",
    }


def predicate(name: str, operator: str, value: Any) -> dict[str, Any]:
    return {
        "seq_num": 1,
        "expression1": {"attribute_name": name, "operator": operator, "attribute_value": value},
    }


DCI_SEARCH = f"{BASE}/dci/registry/sync/search"
DCI_ASYNC_SEARCH = f"{BASE}/dci/registry/search"
DCI_TXN_STATUS = f"{BASE}/dci/registry/sync/txn/status"
DCI_ASYNC_TXN_STATUS = f"{BASE}/dci/registry/txn/status"


def txn_status_message(
    attribute_type: str, attribute_value: Any, *, sender_id: str = "wfp-dj", **header: Any
) -> dict[str, Any]:
    """A status request about an earlier asynchronous search."""
    message = search_message(sender_id=sender_id, action="txn-status", total_count=1, **header)
    message["message"] = {
        "transaction_id": str(uuid.uuid4()),
        "txnstatus_request": {
            "reference_id": "status-1",
            "txn_type": "search",
            "attribute_type": attribute_type,
            "attribute_value": attribute_value,
        },
    }
    return message
