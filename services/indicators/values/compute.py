"""Indicator values from fetched figures: the numerator and denominator evaluated in each
cell of a breakdown (aggregated separately, then divided, as DHIS2 does), times the
factor, with what each value was computed from. An indicator another one uses is computed
first, in the same cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, DecimalException, localcontext

from services.indicators.expressions.evaluator import NoValue, Outcome, evaluate
from services.indicators.expressions.names import MeasureInfo
from services.indicators.expressions.nodes import Measure, Node, measures
from services.indicators.values.asks import AreaLines, Ask, Term, term_for
from services.indicators.values.fetch import Answer, CellKey
from services.indicators.values.periods import Period

# Values are given to 6 decimal places (half away from zero); numerator and denominator
# exactly.
PLACES = Decimal("0.000001")
# Room for any sum the services publish, with its 6 places.
_CONTEXT = Context(prec=60)


@dataclass(frozen=True)
class Definition:
    """What computing needs of an indicator's current definition."""

    code: str
    version: int
    factor: Decimal
    numerator: Node
    denominator: Node | None
    direction: str
    uses: tuple[str, ...] = ()


@dataclass
class Computed:
    indicator: str
    version: int
    cell: dict[str, str | None]
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    reason: str | None
    flagged: bool
    inputs_as_of: dict[str, date] = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """One computation: the period, the caller's filters, the names, the small-cell
    threshold, and the day it is."""

    period: Period
    chosen: Mapping[str, Sequence[str]]
    names: Mapping[str, MeasureInfo]
    threshold: int
    today: date
    # The national poverty line of each area in the period's year, as recorded.
    poverty_lines: AreaLines | None = None


def terms_of(
    definition: Definition, breakdown: Sequence[str], setting: Setting
) -> dict[Measure, Term]:
    """The terms of the definition's own measures (not of the indicators it uses)."""
    found: dict[Measure, Term] = {}
    for tree in (definition.numerator, definition.denominator):
        if tree is None:
            continue
        for node in measures(tree):
            info = setting.names.get(node.name)
            if info is not None:
                found[node] = term_for(
                    node,
                    info,
                    setting.period,
                    breakdown,
                    setting.chosen,
                    setting.today,
                    setting.poverty_lines,
                )
    return found


def compute(
    definition: Definition,
    breakdown: Sequence[str],
    terms: Mapping[Measure, Term],
    answers: Mapping[Ask, Answer],
    used: Mapping[str, dict[CellKey, Computed]],
    setting: Setting,
) -> dict[CellKey, Computed]:
    """The definition's value in every cell of the breakdown that has figures (one cell,
    `()`, without a breakdown); `used` holds the values of the indicators it uses."""
    read = {node: answers[term.ask] for node, term in terms.items() if term.ask is not None}
    keys: set[CellKey] = {()} if not breakdown else set()
    if breakdown:
        for node, answer in read.items():
            if terms[node].ask and terms[node].ask.group_by:  # type: ignore[union-attr]
                keys |= set(answer.cells)
        for code in definition.uses:
            keys |= set(used.get(code, {}))
    inputs_as_of = {
        terms[node].ask.source: answer.as_of  # type: ignore[union-attr]
        for node, answer in read.items()
        if answer.as_of is not None
    }
    for code in definition.uses:
        for computed in used.get(code, {}).values():
            inputs_as_of.update(computed.inputs_as_of)
            break
    return {
        key: _cell(definition, breakdown, key, terms, read, used, setting, inputs_as_of)
        for key in sorted(keys, key=lambda k: tuple((v is None, v or "") for v in k))
    }


def _cell(
    definition: Definition,
    breakdown: Sequence[str],
    key: CellKey,
    terms: Mapping[Measure, Term],
    read: Mapping[Measure, Answer],
    used: Mapping[str, dict[CellKey, Computed]],
    setting: Setting,
    inputs_as_of: dict[str, date],
) -> Computed:
    small = False

    def lookup(node: Measure) -> Decimal:
        nonlocal small
        if node.name in used or node.name not in setting.names:
            other = used.get(node.name, {}).get(key)
            if other is None or other.value is None:
                why = "no figures in this cell" if other is None else other.reason
                raise NoValue(f"{node.name}: {why}")
            small = small or other.flagged
            return other.value
        term = terms[node]
        if term.reason is not None:
            raise NoValue(term.reason)
        if term.empty or term.ask is None:
            return Decimal(0)
        answer = read[node]
        if answer.reason is not None:
            raise NoValue(f"{node.text()}: {answer.reason}")
        figure = answer.cells.get(key, Decimal(0)) if term.ask.group_by else answer.total
        counts_people = (
            term.ask.source == "beneficiaries" and setting.names[node.name].kind == "count"
        )
        if counts_people and 0 < figure < setting.threshold:
            small = True
        return figure

    numerator = evaluate(definition.numerator, lookup)
    denominator = (
        None if definition.denominator is None else evaluate(definition.denominator, lookup)
    )
    value, reason = ratio(definition.factor, numerator, denominator)
    return Computed(
        indicator=definition.code,
        version=definition.version,
        cell=dict(zip(breakdown, key, strict=True)),
        value=value,
        numerator=numerator.value,
        denominator=None if denominator is None else denominator.value,
        reason=reason,
        flagged=small,
        inputs_as_of=inputs_as_of,
    )


def ratio(
    factor: Decimal, numerator: Outcome, denominator: Outcome | None
) -> tuple[Decimal | None, str | None]:
    """numerator / denominator x factor to 6 places, or why there is none; never an error."""
    try:
        with localcontext(_CONTEXT):
            return _quotient(factor, numerator, denominator)
    except DecimalException:
        return None, "the value is too large to give"


def _quotient(
    factor: Decimal, numerator: Outcome, denominator: Outcome | None
) -> tuple[Decimal | None, str | None]:
    if numerator.value is None:
        return None, f"numerator: {numerator.reason}"
    if denominator is None:
        return (numerator.value * factor).quantize(PLACES, ROUND_HALF_UP), None
    if denominator.value is None:
        return None, f"denominator: {denominator.reason}"
    if denominator.value == 0:
        return None, "the denominator is zero"
    value = numerator.value / denominator.value * factor
    return value.quantize(PLACES, ROUND_HALF_UP), None
