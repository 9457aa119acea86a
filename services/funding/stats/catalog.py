"""What `/stats` can count or sum and by what: the measures, the dimensions that apply to
each, their value sets, the filters. Pure data, shared by the query validation, the SQL
builder and `GET /stats/catalog`, so the three cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from services.funding.vocabulary import LINE_STATUSES

Measure = Literal[
    "payment_lines",
    "payment_amount",
    "committed",
    "committed_usd",
    "received",
    "received_usd",
    "disbursed",
    "disbursed_usd",
    "paid",
    "paid_usd",
]
MEASURE_NAMES: tuple[str, ...] = get_args(Measure)
# Payment measures read payment lines; ledger measures, agreements and transactions.
Family = Literal["payment", "ledger"]
Kind = Literal["count", "sum"]
FilterType = Literal["list[string]", "list[integer]"]
# Where a dimension's value comes from: the payment line, the agreement behind the line or
# transaction (its funder, its project), or the record counted itself.
Level = Literal["payment_line", "agreement", "record"]
ValueSource = Literal["fixed", "organisation", "project", "programme", "currency", "open"]

MAX_DIMENSIONS = 5


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    family: Family
    kind: Kind
    unit: str
    description: str


_PAID_LINES = (
    "Only lines of payrolls whose build has finished count (a payroll being built, or whose "
    "build failed, has no lines yet); every status counts unless line_status filters it "
    "(cancelled lines of cancelled cycles, failed and reversed ones included)."
)
_LEDGER = {
    "committed": "Commitments of the agreements that are not cancelled, in the year they "
    "were signed, converted at the signed date's rates.",
    "received": "Incoming funds: transactions of IATI type 1, converted at their value "
    "date's rates; reversals (negative) net out.",
    "disbursed": "Disbursements: transactions of IATI type 3 (payrolls sent to payment "
    "providers, transfers to implementers), converted at their value date's rates.",
    "paid": "Paid to households: transactions of IATI type 4 (expenditure), one per "
    "reconciliation of a payroll, converted at their value date's rates.",
}

MEASURES: dict[str, MeasureSpec] = {
    spec.name: spec
    for spec in (
        MeasureSpec(
            "payment_lines",
            "payment",
            "count",
            "lines",
            "Payment lines (a household in a payroll). " + _PAID_LINES,
        ),
        MeasureSpec(
            "payment_amount",
            "payment",
            "sum",
            "DJF minor units (francs)",
            "The lines' amounts in DJF minor units (DJF has no decimals: francs). A line in "
            "another currency counts at the DJF rate fixed on its payroll at approval, "
            "rounded half away from zero; lines of a payroll in another currency not yet "
            "approved have no DJF value and add nothing. " + _PAID_LINES,
        ),
        *(
            MeasureSpec(name, "ledger", "sum", "DJF minor units (francs)", text + " Summed in DJF.")
            for name, text in _LEDGER.items()
        ),
        *(
            MeasureSpec(
                f"{name}_usd", "ledger", "sum", "USD minor units (cents)", text + " Summed in USD."
            )
            for name, text in _LEDGER.items()
        ),
    )
}
# Keep the Literal and the table in step.
assert set(MEASURES) == set(MEASURE_NAMES)


@dataclass(frozen=True)
class Dimension:
    name: str
    level: Level
    families: tuple[Family, ...]
    values: ValueSource
    description: str
    integer: bool = False

    def applies_to(self, measure: str) -> bool:
        return MEASURES[measure].family in self.families


BOTH: tuple[Family, ...] = ("payment", "ledger")
DIMENSIONS: dict[str, Dimension] = {
    dimension.name: dimension
    for dimension in (
        Dimension(
            "programme",
            "payment_line",
            ("payment",),
            "programme",
            "Registry programme code of the line's payroll.",
        ),
        Dimension(
            "region",
            "payment_line",
            ("payment",),
            "fixed",
            "Region (admin level 1, ISO 3166-2:DJ code) of the household, as the registry "
            "gave it when the payroll was built.",
        ),
        Dimension(
            "period",
            "payment_line",
            ("payment",),
            "open",
            "The payroll's period, as written on it (e.g. 2026Q3).",
        ),
        Dimension(
            "line_status",
            "payment_line",
            ("payment",),
            "fixed",
            "The line's status now: pending until the provider's report settles it.",
        ),
        Dimension(
            "partner",
            "agreement",
            BOTH,
            "organisation",
            "IATI identifier of the funder of the agreement (a line: of its payroll's "
            "agreement); null for a transaction without an agreement.",
        ),
        Dimension(
            "project",
            "agreement",
            BOTH,
            "project",
            "IATI activity identifier of the project (a line: of its payroll's agreement; "
            "a transaction: its own project).",
        ),
        Dimension(
            "year",
            "record",
            BOTH,
            "open",
            "Calendar year: an agreement's signed date, a transaction's transaction date, a "
            "line's period (its first four digits).",
            integer=True,
        ),
        Dimension(
            "currency",
            "record",
            BOTH,
            "currency",
            "ISO 4217 currency of the agreement, transaction or line itself (the sums stay "
            "in the measure's DJF or USD).",
        ),
    )
}

# ISO 3166-2:DJ, the registry's region codes.
REGIONS: dict[str, str] = {
    "DJ-AR": "Arta",
    "DJ-AS": "Ali Sabieh",
    "DJ-DI": "Dikhil",
    "DJ-DJ": "Djibouti",
    "DJ-OB": "Obock",
    "DJ-TA": "Tadjourah",
}
FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "region": tuple(REGIONS),
    "line_status": LINE_STATUSES,
}
VALUE_LABELS: dict[str, str] = {**REGIONS}


def dimensions_of(measure: str) -> list[str]:
    return [name for name, dimension in DIMENSIONS.items() if dimension.applies_to(measure)]
