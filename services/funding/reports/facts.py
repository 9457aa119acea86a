"""The ledger's facts, defined once for the funding report and the money measures of `/stats`:
what each agreement and each transaction adds to which group.

- An agreement (not cancelled) adds its commitment, and its balance (received - reserved -
  paid, in its currency) as `available`, to the group of its funder (`partner`), its
  project, the year it was signed and its currency. The commitment in DJF and USD is the
  stored conversion (at the signed date's rates). `available` is money held now, so it is
  valued at the rates in force on `LedgerFilter.rates_on` (the report's day): the DJF a
  payroll approved that day could still reserve, as approval converts at the day's rates.
  Received, disbursed and paid are flows, each at its own value date's rates; where the
  rates have not moved since, available = received - reserved - paid in DJF and USD too,
  and where they have, the difference is the exchange gain or loss on the money held.
  Converted in SQL exactly as `Money.convert_through` does (half a minor unit away from
  zero). A currency with no rate on or before that day (an agreement signed later) keeps
  its signed date's rate, the earliest one known.
- A transaction of type 1 (incoming funds), 3 (disbursement) or 4 (expenditure: paid to
  households) adds its stored DJF and USD amounts to the group of its agreement's funder
  (none without an agreement), its project, the year of its transaction date and its own
  currency. Reversals are negative transactions of the same type: sums net them out.

Every fact carries every measure (zeros where it does not apply), so the facts of
agreements and transactions are one UNION ALL that a single GROUP BY sums: plain integer
sums, computed by PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)

from services.funding.models import Agreement, Transaction
from services.funding.organisations.repository import partner_organisations
from services.funding.rates.repository import rate_to_djf_on
from services.funding.vocabulary import DISBURSEMENT, EXPENDITURE, INCOMING_FUNDS, USD
from shared.clock import today
from shared.money import CURRENCIES

_agreement = Agreement.__table__
_transaction = Transaction.__table__

DIMENSIONS = ("partner", "project", "year", "currency")
# The measures of a fact, each in DJF and USD minor units and in the fact's own currency.
MONEY_MEASURES = ("committed", "received", "disbursed", "paid", "available")
CURRENCY_SUFFIXES = ("djf", "usd", "own")
TRANSACTION_MEASURES = {"received": INCOMING_FUNDS, "disbursed": DISBURSEMENT, "paid": EXPENDITURE}
# Scale used to turn the numeric rates (20, 10) and the decimal shifts (at most 4 places)
# into whole numbers before the exact integer division of a USD conversion.
_INTEGRAL = 10**14


@dataclass(frozen=True)
class LedgerFilter:
    """Which facts count: dimension values (empty: any), the caller's partner scope (the
    gateway partner id a partner token acts for; None: everything) and a day after which
    nothing counts yet (None: no limit); and the day whose rates value what is available
    (default: today in Djibouti)."""

    partner_ids: tuple[uuid.UUID, ...] = ()
    project_ids: tuple[uuid.UUID, ...] = ()
    years: tuple[int, ...] = ()
    currencies: tuple[str, ...] = ()
    scope: str | None = None
    as_of: date | None = None
    rates_on: date = field(default_factory=today)


def column(measure: str, suffix: str) -> str:
    return f"{measure}_{suffix}"


ALL_COLUMNS = tuple(column(m, s) for m in MONEY_MEASURES for s in CURRENCY_SUFFIXES)


def decimal_shift(currency: ColumnElement[Any], target_decimals: int) -> ColumnElement[Any]:
    """10 ** (target_decimals - the ISO 4217 decimals of `currency`), an exact numeric: what
    turns an amount in `currency`'s minor units times a rate into the target's minor units."""
    by_decimals: dict[int, list[str]] = defaultdict(list)
    for code, units in CURRENCIES.items():
        by_decimals[units].append(code)
    whens = [
        (currency.in_(sorted(codes)), _power_of_ten(target_decimals - units))
        for units, codes in sorted(by_decimals.items())
        if units != 2
    ]
    return case(*whens, else_=_power_of_ten(target_decimals - 2))


def _power_of_ten(exponent: int) -> ColumnElement[Any]:
    text = "1" + "0" * exponent + ".0" if exponent >= 0 else "0." + "0" * (-exponent - 1) + "1"
    return literal_column(text, Numeric())


def to_djf(
    amount_minor: ColumnElement[Any], currency: ColumnElement[Any], rate_to_djf: ColumnElement[Any]
) -> ColumnElement[int]:
    """`amount_minor` of `currency` in DJF at `rate_to_djf` (DJF per unit): the product is
    exact in numeric, and PostgreSQL's round() takes half away from zero."""
    exact = amount_minor * rate_to_djf * decimal_shift(currency, 0)
    return cast(func.round(exact), BigInteger)


def to_usd(
    amount_minor: ColumnElement[Any],
    currency: ColumnElement[Any],
    rate_to_djf: ColumnElement[Any],
    usd_rate_to_djf: ColumnElement[Any],
) -> ColumnElement[int]:
    """`amount_minor` of `currency` in USD cents through DJF, rounded once half away from
    zero: numerator and denominator scaled to whole numbers, then sign * div(2|n| + d, 2d),
    an exact integer division (numeric division would round first at some scale)."""
    numerator = amount_minor * rate_to_djf * decimal_shift(currency, 2) * _INTEGRAL
    denominator = usd_rate_to_djf * _INTEGRAL
    magnitude = func.div(2 * func.abs(numerator) + denominator, 2 * denominator)
    return cast(func.sign(numerator) * magnitude, BigInteger)


def _zeros(except_: Sequence[str]) -> dict[str, ColumnElement[Any]]:
    return {name: literal(0, BigInteger) for name in ALL_COLUMNS if name not in except_}


def _year(day: ColumnElement[Any]) -> ColumnElement[int]:
    return cast(extract("year", day), Integer)


def agreement_facts(ledger: LedgerFilter) -> Select[Any]:
    """One row per agreement that is not cancelled: its commitment and its balance."""
    a = _agreement
    available_own = a.c.received_minor - a.c.reserved_minor - a.c.paid_minor
    # The agreement's signed date's rates where its currency has none on that day (DJF never
    # has one: its stored rate is 1).
    rate_now = func.coalesce(rate_to_djf_on(a.c.currency, ledger.rates_on), a.c.rate_to_djf)
    usd_rate_now = func.coalesce(rate_to_djf_on(literal(USD), ledger.rates_on), a.c.usd_rate_to_djf)
    values: dict[str, ColumnElement[Any]] = {
        "committed_djf": a.c.committed_djf_minor,
        "committed_usd": a.c.committed_usd_minor,
        "committed_own": a.c.committed_minor,
        "available_djf": to_djf(available_own, a.c.currency, rate_now),
        "available_usd": to_usd(available_own, a.c.currency, rate_now, usd_rate_now),
        "available_own": available_own,
    }
    values |= _zeros(list(values))
    statement = select(
        a.c.funder_id.label("partner"),
        a.c.project_id.label("project"),
        _year(a.c.signed_date).label("year"),
        a.c.currency.label("currency"),
        *(values[name].label(name) for name in ALL_COLUMNS),
    ).where(a.c.status != "cancelled")
    conditions = _conditions(ledger, a.c.funder_id, a.c.project_id, a.c.signed_date, a.c.currency)
    return statement.where(*conditions)


def transaction_facts(ledger: LedgerFilter, measures: Sequence[str]) -> Select[Any]:
    """One row per transaction of the types behind `measures` (received, disbursed, paid)."""
    t, a = _transaction, _agreement
    types = [TRANSACTION_MEASURES[m] for m in measures]
    values: dict[str, ColumnElement[Any]] = {}
    for measure in measures:
        of_type = t.c.type == TRANSACTION_MEASURES[measure]
        values[column(measure, "djf")] = case((of_type, t.c.amount_djf_minor), else_=0)
        values[column(measure, "usd")] = case((of_type, t.c.amount_usd_minor), else_=0)
        values[column(measure, "own")] = case((of_type, t.c.amount_minor), else_=0)
    values |= _zeros(list(values))
    statement = (
        select(
            a.c.funder_id.label("partner"),
            t.c.project_id.label("project"),
            _year(t.c.transaction_date).label("year"),
            t.c.currency.label("currency"),
            *(values[name].label(name) for name in ALL_COLUMNS),
        )
        .select_from(t.outerjoin(a, a.c.id == t.c.agreement_id))
        .where(t.c.type.in_(types))
    )
    conditions = _conditions(
        ledger, a.c.funder_id, t.c.project_id, t.c.transaction_date, t.c.currency
    )
    return statement.where(*conditions)


def _conditions(
    ledger: LedgerFilter,
    funder: ColumnElement[Any],
    project: ColumnElement[Any],
    day: ColumnElement[Any],
    currency: ColumnElement[Any],
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if ledger.scope is not None:
        conditions.append(funder.in_(partner_organisations(ledger.scope)))
    if ledger.partner_ids:
        conditions.append(funder.in_(ledger.partner_ids))
    if ledger.project_ids:
        conditions.append(project.in_(ledger.project_ids))
    if ledger.years:
        conditions.append(_year(day).in_(ledger.years))
    if ledger.currencies:
        conditions.append(currency.in_(ledger.currencies))
    if ledger.as_of is not None:
        conditions.append(day <= ledger.as_of)
    return conditions


def all_facts(ledger: LedgerFilter) -> Any:
    """Agreements' and transactions' facts together, as a subquery `fact`."""
    return (
        agreement_facts(ledger)
        .union_all(transaction_facts(ledger, tuple(TRANSACTION_MEASURES)))
        .subquery("fact")
    )


def grouped(facts: Any, group_by: Sequence[str], columns: Sequence[str]) -> Select[Any]:
    """The sums of `columns` of `facts` per combination of `group_by`, and the grand total
    (the row with `is_total`), in one GROUP BY GROUPING SETS."""
    sums = [func.coalesce(func.sum(facts.c[name]), 0).label(name) for name in columns]
    if not group_by:
        return select(*sums, literal(True).label("is_total")).select_from(facts)
    dimensions = [facts.c[name] for name in group_by]
    is_total = func.grouping(dimensions[0]) == 1
    return (
        select(*dimensions, *sums, is_total.label("is_total"))
        .select_from(facts)
        .group_by(func.grouping_sets(tuple_(*dimensions), tuple_()))
    )
