"""What a role that is let through still must not get, through the real gateway, on records
of this test's own (names, identifiers, birth dates and phones nobody else has):

- a registrar never reads or writes a household outside the regions on their account
  (lists, reads, searches, exports, the sync feed, sync writes, registrations);
- an analyst never receives a name, an identifier, a birth date or a phone: every GET the
  access table lets an analyst call, with real ids where it takes them, scanned as text;
- a partner gets only what its agreement allows: its fields, of the households of its
  regions and legal statuses whose consent covers sharing.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from services.gateway.access.table import OPERATIONS, Operation
from tests.beneficiaries.partners.world import predicate, search_message, search_request
from tests.beneficiaries.payloads import household, member
from tests.support.access import REGISTRY, concrete_path, partner_with_agreement
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
SHARING = ["registry", "programmes", "partner_sharing"]
# demo-registrar works in Djibouti city and Ali Sabieh (inds/stack.py).
HOME, ELSEWHERE = "DJ-DJ-BALBALA-PK12", "DJ-TA-TADJOURAH-VILLE"
CAMP = "DJ-OB-OBOCK-MARKAZI"


def _name(rng: random.Random) -> str:
    return "Q" + "".join(rng.choice(string.ascii_lowercase) for _ in range(9))


@dataclass
class Seeded:
    """A household as registered, and what in it is personal."""

    id: str
    document: dict[str, Any]
    names: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    # The record's and its people's ids and registry number: what links a row to a person.
    references: list[str] = field(default_factory=list)

    def found_in(self, text: str, *, references: bool = False, dates: bool = True) -> list[str]:
        """What of this household is in `text`; without `dates` where other people's rows
        are (thousands of birth dates: some are the same as one of these)."""
        values = [*self.names, *self.identifiers]
        values += [*(self.birth_dates if dates else ()), *(self.references if references else ())]
        return [value for value in values if value in text]


@dataclass
class World:
    home: Seeded  # in the registrar's regions
    elsewhere: Seeded  # outside them
    refugees: Seeded  # in Obock's camp, refugees, sharing consented: the partner's
    unconsented: Seeded  # in Obock's camp, refugees, no consent to sharing

    @property
    def all(self) -> list[Seeded]:
        return [self.home, self.elsewhere, self.refugees, self.unconsented]


def _register(
    stack: RunningStack, manager: dict[str, str], rng: random.Random, locality: str, **kw: Any
) -> Seeded:
    legal_status = kw.pop("legal_status", "national")
    scope = kw.pop("consent_scope", ["registry", "programmes"])
    people = []
    for relationship, sex in (("head", "F"), ("child", "M")):
        birth = f"19{rng.randint(40, 79)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        identifiers = [
            {"type": "national_id", "value": f"DJ-{rng.randint(10**8, 10**9 - 1)}"},
            {
                "type": "phone",
                "value": f"77 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            },
        ]
        if legal_status == "refugee":
            identifiers.append(
                {"type": "unhcr_individual", "value": f"UN{rng.randint(10**7, 10**8 - 1)}"}
            )
        people.append(
            member(
                _name(rng),
                _name(rng),
                _name(rng),
                sex=sex,
                birth_date=birth,
                relationship=relationship,
                legal_status=legal_status,
                identifiers=identifiers,
            )
        )
    body = household(people, locality=locality)
    body["consent"]["scope"] = scope
    # Free text holds what people type: a name, a phone.
    head = people[0]
    body["location"]["address"] = f"chez {head['given_name']}, {head['identifiers'][1]['value']}"
    head["occupation"] = f"works for {people[1]['given_name']}"
    answer = httpx.post(f"{stack.url}{REGISTRY}/households", json=body, headers=manager)
    assert answer.status_code == 201, answer.text
    document = answer.json()
    seeded = Seeded(document["id"], document)
    seeded.references += [document["id"], document["registry_number"]]
    for person in document["members"]:
        seeded.names += [person[k] for k in ("given_name", "father_name", "grandfather_name")]
        seeded.birth_dates.append(person["birth_date"])
        seeded.references.append(person["id"])
        seeded.identifiers += [i["value"] for i in person.get("identifiers", [])]
    # ... and as they were typed ("DJ-123" is kept as "DJ123", "77 12 34 56" as digits).
    seeded.identifiers += [i["value"] for p in people for i in p["identifiers"]]
    return seeded


@pytest.fixture(scope="module")
def world(stack: RunningStack) -> World:
    manager = stack.headers("demo-data-manager")
    rng = random.Random(uuid.uuid4().int)
    return World(
        home=_register(stack, manager, rng, HOME),
        elsewhere=_register(stack, manager, rng, ELSEWHERE),
        refugees=_register(
            stack, manager, rng, CAMP, legal_status="refugee", consent_scope=SHARING
        ),
        unconsented=_register(stack, manager, rng, CAMP, legal_status="refugee"),
    )


@pytest.fixture(scope="module")
def registrar(stack: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.url, headers=stack.headers("demo-registrar"), timeout=60
    ) as client:
        yield client


# -- the registrar --------------------------------------------------------------------------


def test_a_registrar_reads_nothing_outside_their_regions(
    registrar: httpx.Client, world: World
) -> None:
    home, away = world.home, world.elsewhere
    assert registrar.get(f"{REGISTRY}/households/{home.id}").status_code == 200
    for path in (f"households/{away.id}", f"households/{away.id}/history"):
        answer = registrar.get(f"{REGISTRY}/{path}")
        assert answer.status_code in (403, 404), f"{path}: {answer.status_code}"
        assert not away.found_in(answer.text)
    someone_away = away.document["members"][0]["id"]
    answer = registrar.get(f"{REGISTRY}/individuals/{someone_away}")
    assert answer.status_code in (403, 404), answer.text
    searches = [
        ("households", {"name": away.names[0]}),
        ("households", {"identifier": f"national_id:{away.identifiers[0]}"}),
        ("households", {"region": "DJ-TA"}),
        ("individuals", {"name": away.names[0]}),
        ("individuals", {"identifier": f"national_id:{away.identifiers[0]}"}),
    ]
    for resource, query in searches:
        answer = registrar.get(f"{REGISTRY}/{resource}", params=query)
        assert answer.status_code in (200, 403), f"{resource} {query}: {answer.text}"
        assert not away.found_in(answer.text, dates=False), f"{resource} {query}: elsewhere"
    # Checking someone for duplicates, or registering them with an identifier a person of
    # another region holds, says nothing of that person the registrar did not send.
    person = away.document["members"][0]
    names = {k: person[k] for k in ("given_name", "father_name", "grandfather_name")}
    identifiers = [{"type": i["type"], "value": i["value"]} for i in person["identifiers"]]
    sent = [*names.values(), person["birth_date"], *[i["value"] for i in identifiers]]
    draft = {**names, "sex": person["sex"], "birth_date": person["birth_date"]}
    head = member(
        names["given_name"],
        names["father_name"],
        names["grandfather_name"],
        sex=person["sex"],
        birth_date=person["birth_date"],
        identifiers=identifiers,
    )
    for path, body in (
        ("dedup/check", {"locality_code": HOME, "people": [{**draft, "identifiers": identifiers}]}),
        ("households", household([head], locality=HOME)),
    ):
        answer = registrar.post(f"{REGISTRY}/{path}", json=body)
        assert answer.status_code < 500, answer.text
        told = [v for v in away.found_in(answer.text, references=True) if v not in sent]
        assert not told, f"{path} told a registrar of another region's {told}"
    # ... while the same searches find the registrar's own.
    found = registrar.get(f"{REGISTRY}/households", params={"name": home.names[0]})
    assert home.id in found.text


def test_a_registrars_exports_and_sync_feed_hold_only_their_regions(
    registrar: httpx.Client, world: World
) -> None:
    for path in ("exports/households.csv", "exports/individuals.csv", "sync/changes"):
        with registrar.stream("GET", f"{REGISTRY}/{path}") as answer:
            assert answer.status_code == 200, path
            text = answer.read().decode()
        for away in (world.elsewhere, world.refugees):
            assert not away.found_in(text, references=True, dates=False), f"{path}: elsewhere"
        if path != "sync/changes":  # the feed's first page may end before today's records
            assert world.home.found_in(text), f"{path} lacks the registrar's own household"


def test_a_registrar_writes_nothing_outside_their_regions(
    stack: RunningStack, registrar: httpx.Client, world: World
) -> None:
    away = world.elsewhere
    version = away.document["version"]
    patched = registrar.patch(
        f"{REGISTRY}/households/{away.id}",
        json={"location": {"address": "moved by a registrar of another region"}},
        headers={"If-Match": f'"v{version}"'},
    )
    assert patched.status_code in (403, 404), patched.text
    # Registering in another region, or moving one's own household there.
    outside = household([member(_name(random.Random()))], locality=ELSEWHERE)
    assert registrar.post(f"{REGISTRY}/households", json=outside).status_code == 403
    created = registrar.post(
        f"{REGISTRY}/households", json=household([member(_name(random.Random()))], locality=HOME)
    )
    assert created.status_code == 201, created.text
    mine = created.json()
    moved = registrar.patch(
        f"{REGISTRY}/households/{mine['id']}",
        json={"location": {"locality_code": ELSEWHERE}},
        headers={"If-Match": f'"v{mine["version"]}"'},
    )
    assert moved.status_code == 403, moved.text
    # Nor any change to its people, nor splitting one's own household there, nor merging
    # another region's household into one's own.
    mine = created.json()  # its version unchanged by the refused move
    someone_away = away.document["members"][0]["id"]
    child = {**member(_name(random.Random()), relationship="child"), "identifiers": []}
    refused = {
        f"households/{away.id}/members": {
            "member": child,
            "joined_on": "2026-11-01",
            "reason": "birth",
        },
        "programmes/pnsf/enrollments": {"household_id": away.id},
        f"households/{mine['id']}/merge": {
            "source_household_id": away.id,
            "merged_on": "2026-11-01",
            "members": [
                {"individual_id": m["id"], "relationship_to_head": "other_relative"}
                for m in away.document["members"]
            ],
        },
    }
    for path, body in refused.items():
        answer = registrar.post(
            f"{REGISTRY}/{path}",
            json=body,
            headers={"If-Match": f'"v{version if away.id in path else mine["version"]}"'},
        )
        assert answer.status_code == 403, f"{path}: {answer.text}"
    answer = registrar.patch(
        f"{REGISTRY}/individuals/{someone_away}",
        json={"occupation": "moved"},
        headers={"If-Match": f'"v{away.document["members"][0]["version"]}"'},
    )
    assert answer.status_code == 403, answer.text
    # ... nor from a field device.
    batch = registrar.post(
        f"{REGISTRY}/sync/batch",
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={
            "device_id": "access-test",
            "operations": [
                {"op": "household.put", "household_id": str(uuid.uuid4()), "household": outside},
                {
                    "op": "household.put",
                    "household_id": away.id,
                    "base_version": version,
                    "household": outside,
                },
            ],
        },
    )
    assert batch.status_code == 200, batch.text
    statuses = [result["status"] for result in batch.json()["results"]]
    assert statuses == ["forbidden", "forbidden"], batch.text
    assert not away.found_in(batch.text)
    manager = stack.headers("demo-data-manager")
    kept = httpx.get(f"{stack.url}{REGISTRY}/households/{away.id}", headers=manager).json()
    assert kept["version"] == version
    assert kept["location"].get("address") != "moved by a registrar of another region"


# -- the analyst ----------------------------------------------------------------------------

_PARAMETER = re.compile(r"\{(\w+)\}")


def _analyst_gets() -> list[Operation]:
    return [op for op in OPERATIONS if op.method == "GET" and op.allows("analyst")]


def _real_path(client: httpx.Client, template: str) -> list[str]:
    """`template` with ids of records that exist, taken from the list above it (the first
    few items), or made-up ones where there is no such list."""
    match = _PARAMETER.search(template)
    if match is None:
        return [template]
    name = match.group(1)
    if name == "export_format":
        return [
            p
            for f in ("csv", "jsonl")
            for p in _real_path(client, template.replace("{export_format}", f))
        ]
    listing = template[: match.start()].rstrip("/")
    answer = client.get(listing)
    items: list[Any] = []
    if answer.status_code == 200 and "json" in answer.headers.get("content-type", ""):
        body = answer.json()
        items = body.get("items", []) if isinstance(body, dict) else body
    key = "code" if name == "code" else "version" if name == "version" else "id"
    values = [str(item[key]) for item in items[:3] if isinstance(item, dict) and key in item]
    if not values:
        return [concrete_path(template)]
    return [
        p
        for value in values
        for p in _real_path(client, template[: match.start()] + value + template[match.end() :])
    ]


def _statistics(client: httpx.Client) -> list[str]:
    """Each measure of each service's `/stats`, by the finest dimensions it has."""
    paths = []
    for service in ("beneficiaries", "funding"):
        catalog = client.get(f"/api/v1/{service}/stats/catalog").json()
        dimensions = [d["name"] for d in catalog["dimensions"]][: catalog["max_dimensions"]]
        for measure in catalog["measures"]:
            query = f"measure={measure['name']}&group_by={','.join(dimensions[-2:])}"
            paths.append(f"/api/v1/{service}/stats?{query}")
    return paths


def _payees(stack: RunningStack) -> Seeded:
    """The people the demo's payrolls pay, as finance staff read them: their phones and
    the references of their records (their names are common ones, found in any text)."""
    officer = stack.headers("demo-finance-officer")
    cycles = f"{stack.url}/api/v1/funding/payment-cycles"
    payees = Seeded("payees", {})
    for cycle in httpx.get(cycles, headers=officer).json()["items"]:
        lines = httpx.get(f"{cycles}/{cycle['id']}/lines", headers=officer).json()["items"]
        for line in lines:
            payee = line["payee"]
            payees.identifiers.append(payee["phone"])
            payees.references += [payee["individual_id"], line["household_id"]]
            payees.references.append(line["registry_number"])
    return payees


def test_an_analyst_never_receives_a_name_an_identifier_a_birth_date_or_a_phone(
    stack: RunningStack, world: World
) -> None:
    payees = _payees(stack)
    assert payees.identifiers, "the demo's payrolls pay no one: nothing to look for"
    with httpx.Client(
        base_url=stack.url, headers=stack.headers("demo-analyst"), timeout=120
    ) as analyst:
        served = 0
        paths = [p for op in _analyst_gets() for p in _real_path(analyst, op.path)]
        for path in [*paths, *_statistics(analyst)]:
            answer = analyst.get(path)
            served += answer.status_code == 200
            for seeded in [*world.all, payees]:
                leaked = seeded.found_in(answer.text, references=True)
                assert not leaked, f"GET {path} gave an analyst {leaked}"
        assert served >= len(paths) // 2, "most of what an analyst may read was not served"
        # Asking for personal fields outright is refused, not quietly answered.
        for fields in ("given_name", "birth_date", "phone", "national_id"):
            answer = analyst.get(f"{REGISTRY}/exports/individuals.csv", params={"fields": fields})
            assert answer.status_code == 403, f"{fields}: {answer.status_code}"


# -- the partner ----------------------------------------------------------------------------


@dataclass
class Partner:
    id: str
    client: httpx.Client


@pytest.fixture(scope="module")
def partner(stack: RunningStack) -> Iterator[Partner]:
    partner_id, token = partner_with_agreement(stack, stack.headers("admin"))
    with httpx.Client(
        base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        yield Partner(partner_id, client)


def test_a_partner_gets_only_its_agreements_fields_of_its_agreements_households(
    partner: Partner, world: World
) -> None:
    client = partner.client
    shared = world.refugees
    heads_and_children = [p["given_name"] for p in shared.document["members"]]
    for path in ("partner/exports/individuals.jsonl", "partner/exports/households.jsonl"):
        with client.stream("GET", f"{REGISTRY}/{path}") as answer:
            assert answer.status_code == 200, path
            text = answer.read().decode()
        assert any(name in text for name in heads_and_children), f"{path} lacks its households"
        not_allowed = [
            *[p for p in shared.names if p not in heads_and_children],  # father's names
            *shared.identifiers,
            *shared.birth_dates,
            *shared.references,  # pseudonymised, and not among its fields anyway
        ]
        assert not [v for v in not_allowed if v in text], f"{path}: fields it may not see"
        for other in (world.home, world.elsewhere, world.unconsented):
            assert not other.found_in(text, references=True), f"{path}: outside the agreement"
    terms = client.get(f"{REGISTRY}/partner/agreement")
    assert terms.status_code == 200, terms.text
    # What the registry's staff may read stays theirs.
    for path in ("households", "individuals", "exports/individuals.csv", "stats"):
        assert client.get(f"{REGISTRY}/{path}").status_code == 403, path


def _head(seeded: Seeded, key: str) -> str:
    return str(seeded.document["members"][0][key])


def _search(partner: Partner, query_type: str, query: Any) -> tuple[dict[str, Any], str]:
    answer = partner.client.post(
        f"{REGISTRY}/dci/registry/sync/search",
        json=search_message(search_request(query_type, query), sender_id=partner.id),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["message"]["search_response"][0], answer.text


def test_a_partners_dci_search_finds_only_its_agreements_people_with_only_its_fields(
    partner: Partner, world: World
) -> None:
    shared = world.refugees
    given = [p["given_name"] for p in shared.document["members"]]
    for seeded, found in ((shared, 1), (world.unconsented, 0), (world.elsewhere, 0)):
        query = [predicate("given_name", "eq", _head(seeded, "given_name"))]
        response, text = _search(partner, "predicate", query)
        assert response["status"] == "succ", json.dumps(response)
        assert response["pagination"]["total_count"] == found, json.dumps(response)
        told = [v for v in shared.found_in(text, references=True) if v not in given]
        assert not told, f"fields its agreement does not allow: {told}"
        for other in (world.home, world.elsewhere, world.unconsented):
            assert not other.found_in(text, references=True), "outside its agreement"
    # Nor can it search by what it may not see (an answer's count would tell it).
    unhcr = next(
        i["value"]
        for i in shared.document["members"][0]["identifiers"]
        if i["type"] == "unhcr_individual"
    )
    for query_type, query in (
        ("idtype-value", {"type": "UNHCR_ID", "value": unhcr}),
        ("predicate", [predicate("birth_date", "eq", _head(shared, "birth_date"))]),
    ):
        response, text = _search(partner, query_type, query)
        assert response["status"] == "rjct", json.dumps(response)
        assert not shared.found_in(text, references=True)


def test_a_partner_reads_only_its_own_organisations_funding(stack: RunningStack) -> None:
    """The demo's WFP client, beside UNICEF and the World Bank: their organisations,
    projects, agreements and transactions stay theirs."""
    funding = f"{stack.url}/api/v1/funding"
    officer, partner = stack.headers("demo-finance-officer"), stack.headers("demo-partner")
    organisations = httpx.get(f"{funding}/organisations", headers=officer).json()["items"]
    others = [o for o in organisations if o["partner_id"] not in (None, "wfp")]
    assert others, "the demo has no other partner to keep apart"
    theirs = [value for o in others for value in (o["id"], o["iati_identifier"])]
    for path in ("organisations", "projects", "agreements", "transactions", "iati/activities.xml"):
        answer = httpx.get(f"{funding}/{path}", headers=partner)
        assert answer.status_code == 200, path
        assert not [value for value in theirs if value in answer.text], f"{path}: not its own"
        everyone = httpx.get(f"{funding}/{path}", headers=officer)
        assert len(answer.text) < len(everyone.text), f"{path}: as much as finance staff see"
