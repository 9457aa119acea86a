"""Probable duplicates: flagged on registration, checked on drafts, resolved by a person."""

from __future__ import annotations

import httpx
import pytest

from tests.beneficiaries.helpers import BASE, register
from tests.beneficiaries.payloads import household, member


async def register_members(
    client: httpx.AsyncClient, headers: dict[str, str], *members: dict, **kw
) -> dict:
    return await register(client, headers, household(list(members), **kw))


def mohamed(**fields) -> dict:
    return member("Mohamed", "Ali", "Farah", sex="M", birth_date="1985-03-02", **fields)


@pytest.mark.parametrize(
    ("given", "father", "grandfather", "birth_date", "locality"),
    [
        ("Maxamed", "Cali", "Faarax", "1985-03-02", "DJ-DJ-BALBALA-HODAN"),  # Somali spelling
        ("Mohammed", "Aly", "Farah", "1985-03-02", "DJ-DJ-BALBALA-HODAN"),  # doubled letters
        ("Mohamed", "Ali", "Farh", "1985-04-01", "DJ-DJ-BALBALA-HODAN"),  # a typo, a month off
        # an estimate a year off is weak: here the same locality bears it out
        ("Mahamed", "Ali", "Farah", "1986-01-01", "DJ-DJ-BALBALA-PK12"),
    ],
)
async def test_spelling_variants_are_flagged_but_saved(
    registry: httpx.AsyncClient,
    registrar: dict[str, str],
    given,
    father,
    grandfather,
    birth_date,
    locality,
) -> None:
    first = await register_members(registry, registrar, mohamed())
    again = member(
        given, father, grandfather, sex="M", birth_date=birth_date, birth_date_estimated=True
    )
    second = await register_members(registry, registrar, again, locality=locality)
    flags = second["possible_duplicates"]
    assert [f["candidate_id"] for f in flags] == [first["members"][0]["id"]]
    assert flags[0]["candidate_household_id"] == first["id"]
    assert 0.7 <= flags[0]["score"] <= 1


@pytest.mark.parametrize(
    "relative",
    [
        member("Ahmed", "Ali", "Farah", sex="M", birth_date="1987-08-08"),  # a brother
        member("Hassan", "Ali", "Farah", sex="M", birth_date="1982-01-15"),  # another brother
        member("Mohamed", "Ali", "Farah", sex="F", birth_date="1985-03-02"),  # not the same sex
        member("Mohamed", "Ismail", "Dirieh", sex="M", birth_date="1985-03-02"),  # a namesake
    ],
    ids=["brother", "brother Hassan", "other sex", "namesake"],
)
async def test_relatives_and_namesakes_are_not_flagged(
    registry: httpx.AsyncClient, registrar: dict[str, str], relative: dict
) -> None:
    await register_members(registry, registrar, mohamed())
    second = await register_members(registry, registrar, relative)
    assert second["possible_duplicates"] == []


async def test_draft_check_saves_nothing(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    first = await register_members(
        registry, registrar, mohamed(identifiers=[{"type": "national_id", "value": "DJ-1985-777"}])
    )
    draft = {
        "locality_code": "DJ-DJ-BALBALA-PK12",
        "people": [
            {
                "given_name": "Muhammad",
                "father_name": "Ali",
                "grandfather_name": "Farah",
                "sex": "M",
                "birth_date": "1985-03-02",
            },
            {
                "given_name": "Amina",
                "sex": "F",
                "birth_date": "1999-09-09",
                "identifiers": [{"type": "national_id", "value": "dj 1985 777"}],
            },
        ],
    }
    checked = await registry.post(f"{BASE}/dedup/check", json=draft, headers=registrar)
    assert checked.status_code == 200, checked.text
    results = checked.json()["results"]
    assert [c["individual_id"] for c in results[0]["candidates"]] == [first["members"][0]["id"]]
    assert "given_name" not in results[0]["candidates"][0], "no names in a check"
    assert results[1]["identifier_conflicts"] == [
        {
            "type": "national_id",
            "individual_id": first["members"][0]["id"],
            "household_id": first["id"],
        }
    ]
    listed = (await registry.get(f"{BASE}/households", headers=registrar)).json()["items"]
    assert len(listed) == 1


async def test_a_manager_resolves_pairs(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    original = await register_members(
        registry, registrar, mohamed(identifiers=[{"type": "national_id", "value": "111"}])
    )
    again = await register_members(
        registry,
        registrar,
        member(
            "Maxamed",
            "Cali",
            "Faarax",
            sex="M",
            birth_date="1985-03-02",
            identifiers=[{"type": "wfp_scope", "value": "SCOPE-9"}],
        ),
        member("Sahra", "Maxamed", "Cali", birth_date="2010-01-01", relationship="child"),
    )
    assert (await registry.get(f"{BASE}/duplicates", headers=registrar)).status_code == 403
    pairs = (await registry.get(f"{BASE}/duplicates", headers=manager)).json()["items"]
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair["individual"]["given_name"] == "Maxamed"
    assert pair["candidate"]["registry_number"] == original["registry_number"]

    # The duplicate heads a household with a child: the head must change first.
    blocked = await registry.post(
        f"{BASE}/duplicates/{pair['id']}/resolve", json={"decision": "merge"}, headers=manager
    )
    assert blocked.status_code == 409
    child = next(m for m in again["members"] if m["given_name"] == "Sahra")
    changed = await registry.post(
        f"{BASE}/households/{again['id']}/head",
        json={
            "individual_id": child["id"],
            "changed_on": "2026-03-03",
            "reason": "other",
            "former_head_relationship": "parent",
        },
        headers={**registrar, "If-Match": '"v1"'},
    )
    assert changed.status_code == 200, changed.text

    merged = await registry.post(
        f"{BASE}/duplicates/{pair['id']}/resolve",
        json={"decision": "merge", "note": "same man, two spellings"},
        headers=manager,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged"
    assert merged.json()["individual"]["status"] == "merged"

    survivor = (
        await registry.get(f"{BASE}/individuals/{original['members'][0]['id']}", headers=manager)
    ).json()
    assert {(i["type"], i["value"]) for i in survivor["identifiers"]} == {
        ("national_id", "111"),
        ("wfp_scope", "SCOPE9"),
    }
    left_behind = (await registry.get(f"{BASE}/households/{again['id']}", headers=manager)).json()
    assert [m["given_name"] for m in left_behind["members"]] == ["Sahra"]

    again_resolved = await registry.post(
        f"{BASE}/duplicates/{pair['id']}/resolve",
        json={"decision": "not_duplicate"},
        headers=manager,
    )
    assert again_resolved.status_code == 409


async def test_not_duplicate_closes_the_pair(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    await register_members(registry, registrar, mohamed())
    await register_members(
        registry, registrar, member("Mohamed", "Ali", "Farah", sex="M", birth_date="1985-03-02")
    )
    [pair] = (await registry.get(f"{BASE}/duplicates", headers=manager)).json()["items"]
    closed = await registry.post(
        f"{BASE}/duplicates/{pair['id']}/resolve",
        json={"decision": "not_duplicate", "note": "twins named alike? checked at the desk"},
        headers=manager,
    )
    assert closed.json()["status"] == "not_duplicate"
    assert (await registry.get(f"{BASE}/duplicates", headers=manager)).json()["items"] == []
    decided = (
        await registry.get(
            f"{BASE}/duplicates", params={"status": "not_duplicate"}, headers=manager
        )
    ).json()["items"]
    assert [p["id"] for p in decided] == [pair["id"]]


def test_estimated_birth_dates_compare_by_year() -> None:
    from datetime import date

    from services.beneficiaries.dedup.matching import birth_evidence

    exact, guessed = date(1985, 2, 1), date(1986, 7, 1)
    assert birth_evidence(exact, False, exact, False) == ("same_date", 2.5)
    year_off, weight = birth_evidence(exact, False, guessed, True)
    assert year_off == "year_off_estimated"
    assert weight > birth_evidence(exact, False, date(1986, 3, 1), False)[1]  # type: ignore[operator]
    assert birth_evidence(exact, False, guessed, False) == ("years_apart", None)
    assert birth_evidence(exact, False, date(1985, 7, 1), True)[0] == "same_year_estimated"
    assert birth_evidence(exact, False, date(1985, 1, 1), False)[0] == "same_year_1_january"
    assert birth_evidence(date(1988, 9, 12), False, date(1988, 12, 9), False)[0] == (
        "day_month_swapped"
    )
    assert birth_evidence(exact, False, date(1989, 7, 1), True) == ("years_apart", None)


@pytest.mark.parametrize("threshold", [0.62, 0.7, 0.8, 0.95])
def test_birth_dates_left_out_of_the_lookup_could_not_reach_the_threshold(
    threshold: float,
) -> None:
    """The candidate lookup leaves out birth dates beyond `birth_reach`: not one pair it
    leaves out could have been flagged, even with the same names, locality and phone."""
    import uuid
    from datetime import date, timedelta

    from services.beneficiaries.dedup.matching import (
        Candidate,
        PersonDraft,
        birth_reach,
        score,
    )

    days, years = birth_reach(threshold)
    born = date(1990, 3, 10)
    left_out = kept = 0
    for offset in range(0, 1200, 7):
        for draft_estimated in (False, True):
            for candidate_estimated in (False, True):
                other = born + timedelta(days=offset)
                estimated = draft_estimated or candidate_estimated
                within = offset <= days or (estimated and abs(other.year - born.year) <= years)
                draft = PersonDraft(
                    "Mohamed",
                    "Ali",
                    "Hassan",
                    "M",
                    born,
                    draft_estimated,
                    "DJ-AS-AS",
                    "DJ-AS",
                    frozenset({("phone", "+25377000000")}),
                )
                twin = Candidate(
                    uuid.uuid4(),
                    None,
                    "Mohamed",
                    "Ali",
                    "Hassan",
                    "M",
                    other,
                    candidate_estimated,
                    "DJ-AS-AS",
                    "DJ-AS",
                    shared_identifiers=frozenset({("phone", "+25377000000")}),
                )
                if within:
                    kept += 1
                else:
                    left_out += 1
                    assert score(draft, twin).score < threshold, (offset, estimated)
    assert kept
    assert left_out  # the bound does leave pairs out
