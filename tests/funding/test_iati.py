"""`GET /iati/activities.xml` on the sample ledger (tests/funding/factories): valid against
the IATI 2.03 activity schema, and saying what the ledger says.

- P1 (44000-P166220, World Bank): A1 1,000,000.00 USD over 2025-03-01..2026-02-28, so two
  budgets: 306 days of 2025 (838,356.16 USD) and 59 of 2026 (161,643.84 USD: the cent
  left over goes to the share that lost most); A2 35,544,000 DJF within 2026; A1's two
  tranches 400,000.00 and 600,000.00 USD; transactions T1 to T8.
- P2 (XM-DAC-41140-DJ01, WFP): A3 17,772,000 DJF, no period (its signed year, 2026); A4
  cancelled (no budget); transactions T9 to T12 (T10 without an agreement).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # our own answer, not untrusted input
from datetime import date
from pathlib import Path

import httpx
import pytest

from shared.db import Database
from shared.money import Money
from tests.funding.factories import (
    SampleLedger,
    add_organisation,
    add_project,
    add_transaction,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

IATI = "/api/v1/funding/iati/activities.xml"
SCHEMAS = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards" / "iati-2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


async def activities_file(funding: httpx.AsyncClient, headers: dict[str, str]) -> bytes:
    response = await funding.get(IATI, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return response.content


def activities(content: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(content)  # noqa: S314
    return {
        activity.findtext("iati-identifier", ""): activity
        for activity in root.findall("iati-activity")
    }


def schema_errors(content: bytes, tmp_path: Path) -> list[str]:
    """What the IATI 2.03 activity schema finds wrong with `content` (skips the test where
    the schema files are absent)."""
    schema_file = SCHEMAS / "iati-activities-schema.xsd"
    if not schema_file.is_file():
        pytest.skip(f"the IATI 2.03 schema files are not at {SCHEMAS.resolve()}")
    import xmlschema

    path = tmp_path / "activities.xml"
    path.write_bytes(content)
    schema = xmlschema.XMLSchema(str(schema_file))
    return [str(error) for error in schema.iter_errors(str(path))]


async def test_the_file_is_valid_against_the_iati_2_03_schema(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str], tmp_path: Path
) -> None:
    content = await activities_file(funding, officer)
    errors = schema_errors(content, tmp_path)
    assert errors == [], "\n".join(errors[:3])

    root = ET.fromstring(content)  # noqa: S314
    assert root.tag == "iati-activities"
    assert root.get("version") == "2.03"
    assert root.get("generated-datetime")


async def test_characters_xml_cannot_hold_are_left_out_of_the_file(
    funding: httpx.AsyncClient, funding_db: Database, officer: dict[str, str], tmp_path: Path
) -> None:
    # Text pasted from a word processor or a spreadsheet brings control characters: a
    # vertical tab in a description, a unit separator in a title, U+FFFE in a name.
    async with funding_db.sessionmaker() as session:
        ministry = await add_organisation(
            session, "DJ-GOV-MASS", "Ministry\ufffe of Social Affairs", type="government"
        )
        project = await add_project(
            session,
            ministry,
            "DJ-GOV-MASS-PNSF",
            "Family\x1f solidarity",
            description="First line\x0bsecond line\x08.",
            planned_start=date(2026, 1, 1),
        )
        await add_transaction(
            session,
            3,
            Money(1_000, "DJF"),
            date(2026, 2, 1),
            project=project,
            description="Bell\x07",
            reference="REF\x0c1",
        )
        await session.commit()

    content = await activities_file(funding, officer)
    [activity] = activities(content).values()  # well-formed: it parses
    assert activity.findtext("description/narrative") == "First linesecond line."
    titles = {n.get(XML_LANG): n.text for n in activity.findall("title/narrative")}
    assert titles["en"] == "Family solidarity"
    assert [n.text for n in activity.findall("reporting-org/narrative")] == [
        "Ministry of Social Affairs",
        "Ministry of Social Affairs",
    ]
    [transaction] = activity.findall("transaction")
    assert transaction.get("ref") == "REF1"
    assert transaction.findtext("description/narrative") == "Bell"
    errors = schema_errors(content, tmp_path)
    assert errors == [], "\n".join(errors[:3])


def attribute(element: ET.Element, path: str, name: str) -> str | None:
    found = element.find(path)
    assert found is not None, path
    return found.get(name)


async def test_each_project_is_an_activity_saying_what_the_ledger_says(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    found = activities(await activities_file(funding, officer))
    assert list(found) == ["44000-P166220", "XM-DAC-41140-DJ01"]
    p1 = found["44000-P166220"]

    assert attribute(p1, "reporting-org", "ref") == "44000"
    assert attribute(p1, "reporting-org", "type") == "40"  # multilateral
    titles = {n.get(XML_LANG): n.text for n in p1.findall("title/narrative")}
    assert titles == {
        "fr": "Projet de filets sociaux intégrés et de capital humain",
        "en": "Integrated cash transfer and human capital project",
    }
    assert p1.findtext("description/narrative") == "IDA credit financing the PNSF cash transfers."
    participants = [
        (org.get("ref"), org.get("role"), org.get("type"))
        for org in p1.findall("participating-org")
    ]
    assert participants == [("44000", "1", "40"), ("DJ-GOV-ADDS", "4", "10")]
    assert attribute(p1, "activity-status", "code") == "2"
    dates = {d.get("type"): d.get("iso-date") for d in p1.findall("activity-date")}
    assert dates == {"1": "2025-01-01", "2": "2025-03-01", "3": "2027-12-31"}
    assert attribute(p1, "recipient-country", "code") == "DJ"
    assert attribute(p1, "sector", "vocabulary") == "1"  # OECD DAC 5-digit purpose codes
    assert attribute(p1, "sector", "code") == "16010"

    budgets = [
        (
            attribute(budget, "period-start", "iso-date"),
            attribute(budget, "period-end", "iso-date"),
            budget.findtext("value"),
            attribute(budget, "value", "currency"),
            attribute(budget, "value", "value-date"),
            budget.get("status"),
        )
        for budget in p1.findall("budget")
    ]
    assert budgets == [
        ("2025-03-01", "2025-12-31", "838356.16", "USD", "2025-03-01", "2"),
        ("2026-01-01", "2026-02-28", "161643.84", "USD", "2025-03-01", "2"),
        ("2026-02-01", "2026-12-31", "35544000", "DJF", "2026-02-01", "2"),
    ]
    planned = [
        (attribute(p, "period-start", "iso-date"), p.findtext("value"))
        for p in p1.findall("planned-disbursement")
    ]
    assert planned == [("2025-04-01", "400000.00"), ("2025-10-01", "600000.00")]
    assert attribute(p1, "planned-disbursement/provider-org", "ref") == "44000"

    transactions = p1.findall("transaction")
    assert len(transactions) == 8  # T1 to T8
    first = transactions[0]
    assert first.get("ref") == "IDA-D123-DJ/1"
    assert attribute(first, "transaction-type", "code") == "1"
    assert attribute(first, "transaction-date", "iso-date") == "2025-04-01"
    assert first.findtext("value") == "400000.00"
    assert attribute(first, "value", "currency") == "USD"
    assert attribute(first, "value", "value-date") == "2025-04-01"
    assert first.findtext("description/narrative") == "IDA first tranche"
    assert attribute(first, "provider-org", "ref") == "44000"
    assert attribute(first, "receiver-org", "ref") == "DJ-GOV-ADDS"
    names = {n.get(XML_LANG): n.text for n in first.findall("provider-org/narrative")}
    assert names == {"fr": "Banque mondiale", "en": "World Bank"}
    # A reversal is a negative value.
    assert [t.findtext("value") for t in transactions][-2:] == ["177720", "-177720"]


async def test_an_activity_without_dates_or_description_is_still_complete(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    p2 = activities(await activities_file(funding, officer))["XM-DAC-41140-DJ01"]
    # No recorded dates: the earliest agreement's start (A3's signed date) is the planned one.
    assert [(d.get("type"), d.get("iso-date")) for d in p2.findall("activity-date")] == [
        ("1", "2026-05-10")
    ]
    # No description: the titles say what it is.
    assert [n.text for n in p2.findall("description/narrative")] == [
        "Plan stratégique de pays",
        "Country strategic plan",
    ]
    # WFP is accountable, and the funder of A3; the cancelled A4's UNICEF is not listed.
    assert [(o.get("ref"), o.get("role")) for o in p2.findall("participating-org")] == [
        ("XM-DAC-41140", "2"),
        ("XM-DAC-41140", "1"),
    ]
    budgets = [
        (attribute(b, "period-start", "iso-date"), b.findtext("value"))
        for b in p2.findall("budget")
    ]
    assert budgets == [("2026-01-01", "17772000")]
    # T11, T9, T10, T12 in date order; every transaction, an incoming commitment included.
    transactions = p2.findall("transaction")
    assert [attribute(t, "transaction-type", "code") for t in transactions] == ["11", "1", "3", "3"]
    eur = transactions[-1]
    assert (eur.findtext("value"), attribute(eur, "value", "currency")) == ("10000.00", "EUR")
    assert transactions[2].find("provider-org") is None  # T10 has no provider


async def test_a_partner_reads_its_own_projects_and_money(
    funding: httpx.AsyncClient, ledger: SampleLedger, tokens: TokenFactory
) -> None:
    wfp = tokens.bearer(sub="client:wfp", roles=["partner"], partner_id="wfp")
    found = activities(await activities_file(funding, wfp))
    assert list(found) == ["XM-DAC-41140-DJ01"]
    # T10 (no agreement) is not WFP's money.
    codes = [
        attribute(t, "transaction-type", "code")
        for t in found["XM-DAC-41140-DJ01"].findall("transaction")
    ]
    assert codes == ["11", "1", "3"]

    unicef = tokens.bearer(sub="client:unicef", roles=["partner"], partner_id="unicef")
    nothing = await funding.get(IATI, headers=unicef)  # its only agreement is cancelled
    assert nothing.status_code == 404
    assert nothing.headers["content-type"].startswith("application/problem+json")


async def test_an_empty_ledger_has_nothing_to_publish(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    response = await funding.get(IATI, headers=officer)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/no-iati-activities")


@pytest.mark.parametrize("role", ["admin", "finance_approver", "analyst"])
async def test_report_readers_read_it(
    funding: httpx.AsyncClient, ledger: SampleLedger, tokens: TokenFactory, role: str
) -> None:
    found = activities(await activities_file(funding, as_role(tokens, role)))
    assert list(found) == ["44000-P166220", "XM-DAC-41140-DJ01"], "every project, not a partner's"


@pytest.mark.parametrize("role", ["registrar", "service"])
async def test_other_roles_are_refused(
    funding: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    assert (await funding.get(IATI, headers=as_role(tokens, role))).status_code == 403
    assert (await funding.get(IATI)).status_code == 401
