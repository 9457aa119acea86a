"""Duplicates as people really make them: weak birth dates borne out by the household or a
phone, twins told apart by their given names, the reasons kept with each pair, and a
registrar told no more of another region than that a duplicate exists there."""

from __future__ import annotations

import httpx

from tests.beneficiaries.helpers import BASE, register
from tests.beneficiaries.payloads import household, member
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


def family(head_given: str, head_father: str, head_grandfather: str, born: str, **spellings):
    """A man, his wife and two children, in the spellings given."""
    spouse = spellings.get("spouse", ("Hibo", "Abdi", "Yacoub"))
    children = spellings.get("children", ("Sahra", "Omar"))
    return [
        member(head_given, head_father, head_grandfather, sex="M", birth_date=born),
        member(*spouse, sex="F", birth_date="1990-06-20", relationship="spouse"),
        member(children[0], head_given, head_father, birth_date="2012-04-05", relationship="child"),
        member(
            children[1],
            head_given,
            head_father,
            sex="M",
            birth_date="2015-10-30",
            relationship="child",
        ),
    ]


async def pairs(registry: httpx.AsyncClient, manager: dict[str, str]) -> list[dict]:
    return (await registry.get(f"{BASE}/duplicates", headers=manager)).json()["items"]


async def test_a_year_off_is_flagged_when_spouse_and_children_match(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    first = await register(
        registry, registrar, household(family("Mohamed", "Ali", "Farah", "1985-03-02"))
    )
    # the same family at another desk, another region: other spellings, the year off by one
    again = family(
        "Maxamed",
        "Cali",
        "Faarax",
        "1986-03-02",
        spouse=("Hibaaq", "Abdy", "Yaqub"),
        children=("Saxra", "Cumar"),
    )
    second = await register(registry, registrar, household(again, locality="DJ-OB-OBOCK-VILLE"))
    head = second["members"][0]
    flagged = {f["candidate_id"] for f in second["possible_duplicates"]}
    assert first["members"][0]["id"] in flagged

    [pair] = [
        p
        for p in await pairs(registry, manager)
        if p["individual"]["id"] == head["id"] and p["candidate"]["id"] == first["members"][0]["id"]
    ]
    shown = await registry.get(f"{BASE}/duplicates/{pair['id']}", headers=manager)
    assert shown.status_code == 200, shown.text
    reasons = shown.json()["reasons"]
    findings = {(e["field"], e["finding"]) for e in reasons["evidence"]}
    assert ("birth_date", "year_off") in findings
    assert ("household", "spouse_matches") in findings
    assert ("household", "children_match") in findings
    assert ("given_name", "close") in findings  # Maxamed / Mohamed: a spelling variant
    assert reasons["ruled_out"] is False
    assert "year off" in reasons["summary"] and "Mohamed" not in reasons["summary"]
    assert shown.json()["score"] >= 0.7


async def test_a_year_off_alone_elsewhere_is_a_namesake(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    await register(registry, registrar, household(family("Mohamed", "Ali", "Farah", "1985-03-02")))
    alone = member("Mohamed", "Ali", "Farah", sex="M", birth_date="1986-03-02")
    second = await register(registry, registrar, household([alone], locality="DJ-OB-OBOCK-VILLE"))
    assert second["possible_duplicates"] == []


async def test_twins_with_different_given_names_are_two_people(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    phone = [{"type": "phone", "value": "77 55 44 33"}]
    await register(
        registry,
        registrar,
        household([member("Hawa", "Ahmed", "Hassan", birth_date="1995-08-14", identifiers=phone)]),
    )
    twin = await register(
        registry,
        registrar,
        household(
            [member("Khadija", "Ahmed", "Hassan", birth_date="1995-08-14", identifiers=phone)]
        ),
    )
    assert twin["possible_duplicates"] == []
    assert await pairs(registry, manager) == []


async def test_day_and_month_swapped_are_flagged_with_a_shared_phone(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    phone = [{"type": "phone", "value": "77 10 20 30"}]
    first = await register(
        registry,
        registrar,
        household(
            [member("Zainab", "Ousman", "Dirieh", birth_date="1988-09-12", identifiers=phone)]
        ),
    )
    # without the phone, in another region: a namesake, as far as anyone can tell
    zeinab = {
        "given_name": "Zeinab",
        "father_name": "Osman",
        "grandfather_name": "Diriye",
        "sex": "F",
        "birth_date": "1988-12-09",
    }
    check = {"locality_code": "DJ-OB-OBOCK-VILLE", "people": [zeinab]}
    namesake = await registry.post(f"{BASE}/dedup/check", json=check, headers=registrar)
    assert namesake.json()["results"][0]["candidates"] == []
    swapped = await register(
        registry,
        registrar,
        household(
            [member("Zeinab", "Osman", "Diriye", birth_date="1988-12-09", identifiers=phone)],
            locality="DJ-OB-OBOCK-VILLE",
        ),
    )
    assert [f["candidate_id"] for f in swapped["possible_duplicates"]] == [
        first["members"][0]["id"]
    ]
    [pair] = await pairs(registry, manager)
    findings = {(e["field"], e["finding"]) for e in pair["reasons"]["evidence"]}
    assert {("birth_date", "day_month_swapped"), ("identifiers", "shared")} <= findings
    shared = next(e for e in pair["reasons"]["evidence"] if e["field"] == "identifiers")
    assert shared["types"] == ["phone"] and "77" not in str(pair["reasons"])


async def test_a_registrar_learns_only_that_a_duplicate_exists_in_another_region(
    registry: httpx.AsyncClient, manager: dict[str, str], tokens: TokenFactory
) -> None:
    ali_sabieh = as_role(tokens, "registrar", regions=["DJ-AS"])
    djibouti = as_role(tokens, "registrar", regions=["DJ-DJ"])
    theirs = await register(
        registry,
        ali_sabieh,
        household(
            [
                member(
                    "Mohamed",
                    "Ali",
                    "Farah",
                    sex="M",
                    birth_date="1985-03-02",
                    identifiers=[{"type": "national_id", "value": "DJ-1985-4242"}],
                )
            ],
            locality="DJ-AS-ALISABIEH-VILLE",
        ),
    )
    draft = {
        "locality_code": "DJ-DJ-BALBALA-PK12",
        "people": [
            {
                "given_name": "Maxamed",
                "father_name": "Cali",
                "grandfather_name": "Faarax",
                "sex": "M",
                "birth_date": "1985-03-02",
            },
            {
                "given_name": "Amina",
                "sex": "F",
                "birth_date": "1999-09-09",
                "identifiers": [{"type": "national_id", "value": "DJ 1985 4242"}],
            },
        ],
    }
    checked = await registry.post(f"{BASE}/dedup/check", json=draft, headers=djibouti)
    assert checked.status_code == 200, checked.text
    for result in checked.json()["results"]:
        assert result["candidates"] == [] and result["identifier_conflicts"] == []
        assert result["outside_your_regions"] is True
        assert "data manager" in result["note"]
    text = checked.text
    for clue in (
        theirs["id"],
        theirs["registry_number"],
        theirs["members"][0]["id"],
        "national_id",
        "DJ-AS",
    ):
        assert clue not in text

    # Registering them anyway: the identifier is refused without naming who holds it.
    refused = await registry.post(
        f"{BASE}/households",
        json=household(
            [
                member(
                    "Amina",
                    sex="F",
                    birth_date="1999-09-09",
                    identifiers=[{"type": "national_id", "value": "DJ-1985-4242"}],
                )
            ]
        ),
        headers=djibouti,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["outside_your_regions"] is True
    for clue in (theirs["id"], theirs["members"][0]["id"], "DJ-AS"):
        assert clue not in refused.text

    # in their own region, and for a data manager, the record itself
    for headers in (ali_sabieh, manager):
        seen = (await registry.post(f"{BASE}/dedup/check", json=draft, headers=headers)).json()
        first, second = seen["results"]
        assert [c["household_id"] for c in first["candidates"]] == [theirs["id"]]
        assert second["identifier_conflicts"][0]["household_id"] == theirs["id"]
        assert first["outside_your_regions"] is False


async def test_a_registrar_s_household_names_no_duplicate_outside_their_regions(
    registry: httpx.AsyncClient, manager: dict[str, str], tokens: TokenFactory
) -> None:
    """The household answer's `possible_duplicates` hides the same as /dedup/check: a
    look-alike registered in another region is there, without its ids or region."""
    ali_sabieh = as_role(tokens, "registrar", regions=["DJ-AS"])
    djibouti = as_role(tokens, "registrar", regions=["DJ-DJ"])
    person = member("Mohamed", "Ali", "Farah", sex="M", birth_date="1985-03-02")
    theirs = await register(
        registry, ali_sabieh, household([person], locality="DJ-AS-ALISABIEH-VILLE")
    )
    created = await registry.post(
        f"{BASE}/households", json=household([dict(person)]), headers=djibouti
    )
    assert created.status_code == 201, created.text
    ours = created.json()
    location = created.headers["location"]
    clues = (theirs["id"], theirs["registry_number"], theirs["members"][0]["id"], "DJ-AS")
    feed = await registry.get(f"{BASE}/sync/changes", headers=djibouti)
    assert feed.status_code == 200, feed.text
    for answer in (created, await registry.get(location, headers=djibouti), feed):
        for clue in clues:
            assert clue not in answer.text, clue
    (flag,) = ours["possible_duplicates"]
    assert flag["outside_your_regions"] is True
    assert flag["candidate_id"] is None and flag["candidate_household_id"] is None

    seen = (await registry.get(location, headers=manager)).json()
    (flag,) = seen["possible_duplicates"]
    assert flag["candidate_household_id"] == theirs["id"]
    assert (flag["candidate_region_code"], flag["outside_your_regions"]) == ("DJ-AS", False)
