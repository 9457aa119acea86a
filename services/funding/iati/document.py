"""IATI 2.03 activity XML, element by element (xml.etree.ElementTree from the standard
library), in the order the activity schema's sequence fixes:

    iati-identifier, reporting-org, title, description, participating-org+,
    activity-status, activity-date+, recipient-country, sector, budget*,
    planned-disbursement*, transaction*

Values are decimal major units with the currency's ISO 4217 decimals, each with its
currency and value-date. Every text and attribute is stripped of the characters XML 1.0
cannot hold (control characters such as a vertical tab pasted from a word processor,
U+FFFE, lone surrogates): ElementTree would write them as they are, and one of them makes
the whole file not well-formed. Codes: OrganisationType (vocabulary.IATI_ORGANISATION_TYPE),
OrganisationRole, ActivityStatus, ActivityDateType (1 planned start, 2 actual start,
3 planned end, 4 actual end), SectorVocabulary 1 (OECD DAC CRS purpose codes, 5 digits),
BudgetType 1 (original), BudgetStatus 2 (committed: budgets come from signed agreements),
TransactionType.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from xml.sax.saxutils import quoteattr

from services.funding.iati.repository import ActivityParts
from services.funding.models import Agreement, Organisation, Transaction
from services.funding.vocabulary import IATI_ORGANISATION_TYPE
from shared.money import Money, minor_to_decimal

IATI_VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FUNDING_ROLE, ACCOUNTABLE_ROLE = 1, 2
SECTOR_VOCABULARY_DAC5 = "1"
BUDGET_ORIGINAL, BUDGET_COMMITTED = "1", "2"
PLANNED_DISBURSEMENT_ORIGINAL = "1"
DESCRIPTION_GENERAL = "1"
# The administration's working language: the default of narratives without xml:lang.
DEFAULT_LANGUAGE = "fr"

Organisations = Mapping[uuid.UUID, Organisation]

# Anything but XML 1.0's Char production: tab, newline, carriage return, and U+0020 up,
# less the surrogates and U+FFFE, U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` without the characters an XML 1.0 document cannot contain."""
    return _NOT_XML.sub("", text)


def _serialised(element: ET.Element) -> str:
    """`element` as text, every text and attribute in it made XML-safe first."""
    for node in element.iter():
        if node.text:
            node.text = xml_text(node.text)
        if node.tail:
            node.tail = xml_text(node.tail)
        for name, value in node.attrib.items():
            node.set(name, xml_text(value))
    return ET.tostring(element, encoding="unicode")


def document_start(generated: datetime) -> str:
    stamp = quoteattr(generated.isoformat(timespec="seconds"))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<iati-activities version="{IATI_VERSION}" generated-datetime={stamp}>\n'
    )


DOCUMENT_END = "</iati-activities>\n"
ACTIVITY_END = "</iati-activity>\n"


def activity_start(parts: ActivityParts, organisations: Organisations) -> str:
    """The activity element up to its transactions, as text without its closing tag: the
    transactions are streamed after it, then ACTIVITY_END."""
    project = parts.project
    activity = ET.Element(
        "iati-activity",
        {
            "last-updated-datetime": project.updated_at.isoformat(timespec="seconds"),
            XML_LANG: DEFAULT_LANGUAGE,
        },
    )
    ET.SubElement(activity, "iati-identifier").text = project.iati_identifier
    _organisation(activity, "reporting-org", organisations[project.reporting_org_id])
    title = ET.SubElement(activity, "title")
    _narrative(title, project.title_fr, "fr")
    _narrative(title, project.title_en, "en")
    description = ET.SubElement(activity, "description", type=DESCRIPTION_GENERAL)
    if project.description:
        _narrative(description, project.description)
    else:  # the schema wants a description: the titles say what the project is
        _narrative(description, project.title_fr, "fr")
        _narrative(description, project.title_en, "en")
    for organisation_id, role in participants(parts):
        org = _organisation(activity, "participating-org", organisations[organisation_id])
        org.set("role", str(role))
    ET.SubElement(activity, "activity-status", code=str(project.status))
    for date_type, day in activity_dates(parts):
        ET.SubElement(activity, "activity-date", {"type": str(date_type), "iso-date": _day(day)})
    ET.SubElement(activity, "recipient-country", code=project.recipient_country)
    ET.SubElement(activity, "sector", vocabulary=SECTOR_VOCABULARY_DAC5, code=project.sector_code)
    for agreement in parts.agreements:
        for start, end, amount in budget_slices(agreement):
            budget = ET.SubElement(
                activity, "budget", type=BUDGET_ORIGINAL, status=BUDGET_COMMITTED
            )
            ET.SubElement(budget, "period-start", {"iso-date": _day(start)})
            ET.SubElement(budget, "period-end", {"iso-date": _day(end)})
            _value(budget, amount, agreement.signed_date)
    for agreement in parts.agreements:
        for tranche in parts.tranches.get(agreement.id, []):
            planned = ET.SubElement(
                activity, "planned-disbursement", type=PLANNED_DISBURSEMENT_ORIGINAL
            )
            ET.SubElement(planned, "period-start", {"iso-date": _day(tranche.due_date)})
            ET.SubElement(planned, "period-end", {"iso-date": _day(tranche.due_date)})
            _value(planned, Money(tranche.amount_minor, agreement.currency), tranche.due_date)
            _organisation(planned, "provider-org", organisations[agreement.funder_id])
    text = _serialised(activity)
    assert text.endswith(ACTIVITY_END.strip())
    return text[: -len(ACTIVITY_END.strip())]


def transaction(row: Transaction, organisations: Organisations) -> str:
    element = ET.Element("transaction", {"ref": row.reference} if row.reference else {})
    ET.SubElement(element, "transaction-type", code=str(row.type))
    ET.SubElement(element, "transaction-date", {"iso-date": _day(row.transaction_date)})
    _value(element, Money(row.amount_minor, row.currency), row.value_date)
    if row.description:
        _narrative(ET.SubElement(element, "description"), row.description)
    for tag, organisation_id in (
        ("provider-org", row.provider_org_id),
        ("receiver-org", row.receiver_org_id),
    ):
        if organisation_id is not None:
            _organisation(element, tag, organisations[organisation_id])
    return _serialised(element)


def participants(parts: ActivityParts) -> list[tuple[uuid.UUID, int]]:
    """The project's participants; the funders of its agreements are funding participants
    too when not listed as such; with nobody at all, the reporting organisation is the
    accountable one (the schema wants at least one participating-org)."""
    listed = list(parts.participants)
    for agreement in parts.agreements:
        if (agreement.funder_id, FUNDING_ROLE) not in listed:
            listed.append((agreement.funder_id, FUNDING_ROLE))
    return listed or [(parts.project.reporting_org_id, ACCOUNTABLE_ROLE)]


def activity_dates(parts: ActivityParts) -> list[tuple[int, date]]:
    """The project's planned and actual dates; with none recorded, its earliest agreement's
    start (or else its creation day) as the planned start (the schema wants one)."""
    project = parts.project
    dates = [
        (date_type, day)
        for date_type, day in (
            (1, project.planned_start),
            (2, project.actual_start),
            (3, project.planned_end),
            (4, project.actual_end),
        )
        if day is not None
    ]
    if dates:
        return dates
    starts = [a.period_start or a.signed_date for a in parts.agreements]
    return [(1, min(starts) if starts else project.created_at.date())]


def budget_slices(agreement: Agreement) -> list[tuple[date, date, Money]]:
    """The commitment over its period, one budget per calendar year of it (IATI budgets
    cover a year at most), shared by the days of each and adding up to the commitment
    exactly (Money.allocate); without a period, the signed date's calendar year."""
    start = agreement.period_start
    end = agreement.period_end
    if start is None:
        start = date(agreement.signed_date.year, 1, 1)
        end = date(agreement.signed_date.year, 12, 31)
    if end is None or end < start:
        end = date(start.year, 12, 31)
    pieces = list(_calendar_years(start, end))
    days = [(piece_end - piece_start).days + 1 for piece_start, piece_end in pieces]
    shares = Money(agreement.committed_minor, agreement.currency).allocate(days)
    return [(s, e, share) for (s, e), share in zip(pieces, shares, strict=True)]


def _calendar_years(start: date, end: date) -> Iterable[tuple[date, date]]:
    for year in range(start.year, end.year + 1):
        yield max(start, date(year, 1, 1)), min(end, date(year, 12, 31))


def _organisation(parent: ET.Element, tag: str, org: Organisation) -> ET.Element:
    element = ET.SubElement(
        parent, tag, ref=org.iati_identifier, type=IATI_ORGANISATION_TYPE[org.type]
    )
    _narrative(element, org.name_fr, "fr")
    _narrative(element, org.name_en, "en")
    return element


def _narrative(parent: ET.Element, text: str, language: str | None = None) -> None:
    attributes = {XML_LANG: language} if language else {}
    ET.SubElement(parent, "narrative", attributes).text = text


def _value(parent: ET.Element, amount: Money, value_date: date) -> None:
    element = ET.SubElement(
        parent, "value", {"currency": amount.currency, "value-date": _day(value_date)}
    )
    element.text = str(minor_to_decimal(amount.amount_minor, amount.currency))


def _day(day: date) -> str:
    return day.isoformat()
