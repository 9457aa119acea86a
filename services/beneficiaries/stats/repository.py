"""The statistics query builder: one SQL statement per request, grouped in PostgreSQL.

Shape of the statement (households counted, by region and programme, as an example):

    SELECT region, programme, count(*) | count(*) FILTER (WHERE first_of_household),
           grouping(region) AS is_total, (SELECT array_agg(code) ...) AS known_region
    FROM (SELECT household.region_code AS region, enrollments.programme, ...
          FROM household [LEFT JOIN individual AS head] [JOIN enrollments]
          WHERE household.status = 'active' AND <filters>) AS unit
    GROUP BY GROUPING SETS ((region, programme), ())
    ORDER BY region, programme

- Every join is on an indexed key (household.id, individual.household_id, programme.id)
  and every table is read once: PostgreSQL can hash-join and hash-aggregate in one pass.
- The dimension expressions are computed in the inner select and grouped on in the outer
  one: grouping on an expression that holds bound parameters (age cut-offs, PMT edges)
  would not match its select-list twin, as each occurrence gets its own placeholder.
- Several measures of the same units (individuals, consumption, the poverty measures) are
  several aggregates of the one statement: `figure_0`, `figure_1`... per unit, summed into
  `count_0`, `units_0`... per group.
- Age groups and PMT bands are grouped on as small integers in their natural order and
  named in Python afterwards, on the aggregated rows only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    FromClause,
    Numeric,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import AdminArea, Enrollment, Household, Individual, Programme
from services.beneficiaries.stats.catalog import (
    CONSUMPTION_MEASURES,
    DIMENSIONS,
    FIXED_VALUES,
    FRACTION_MEASURES,
    log_consumption,
    pmt_band_values,
    pmt_bands,
    years_before,
)
from services.beneficiaries.vocabulary import AGE_GROUPS

_household = Household.__table__
_individual = Individual.__table__
_enrollment = Enrollment.__table__
_programme = Programme.__table__
_admin_area = AdminArea.__table__

# Dimensions whose values are codes in a table: the codes a caller names are looked up in
# the same statement so a misspelt one answers 422 instead of a plausible zero.
CODE_DIMENSIONS = ("region", "commune", "locality", "programme")


@dataclass(frozen=True)
class StatsSpec:
    """A validated statistics request, region limits already folded into `filters`.
    `measures`: one, or several of the same units (catalog.PERSON_MEASURES)."""

    measures: tuple[str, ...]
    group_by: tuple[str, ...]
    as_of: date
    pmt_edges: tuple[int, ...]
    # dimension -> the values it may take (labels for age_group and pmt_band).
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    pmt_min: int | None = None
    pmt_max: int | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    # One line for every area, or each area's (the line measures take one of them).
    poverty_line: int | None = None
    poverty_lines: Mapping[str, int] = field(default_factory=dict)
    # dimension in CODE_DIMENSIONS -> codes the caller named, to be checked for existence.
    check_codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


Figures = dict[str, int | float]


@dataclass
class StatsCounts:
    """Each row's dimension values and, under `figures`, each measure's figure."""

    rows: list[dict[str, Any]]
    figures: list[Figures]
    totals: Figures
    unknown_codes: dict[str, list[str]]
    # The units (people, households, enrollments) behind each row's figure of each measure
    # and behind its total: what small-cell protection decides on, a sum measure's too.
    units: list[dict[str, int]]
    total_units: dict[str, int]


async def count(session: AsyncSession, spec: StatsSpec) -> StatsCounts:
    result = await session.execute(statement_for(spec))
    labels = _ordinal_labels(spec)
    rows: list[dict[str, Any]] = []
    figures: list[Figures] = []
    units: list[dict[str, int]] = []
    totals: Figures = dict.fromkeys(spec.measures, 0)
    total_units: dict[str, int] = dict.fromkeys(spec.measures, 0)
    known: dict[str, set[str]] = {}
    for row in result.mappings():
        row_figures = {
            measure: _figure_value(measure, row[f"count_{index}"])
            for index, measure in enumerate(spec.measures)
        }
        row_units = {measure: row[f"units_{index}"] for index, measure in enumerate(spec.measures)}
        if row["is_total"]:
            totals, total_units = row_figures, row_units
            known = {name: set(row[f"known_{name}"] or ()) for name in spec.check_codes}
            if not spec.group_by:
                rows.append({})
                figures.append(row_figures)
                units.append(row_units)
            continue
        rows.append({name: _decode(row[name], labels.get(name)) for name in spec.group_by})
        figures.append(row_figures)
        units.append(row_units)
    unknown = {
        name: [code for code in codes if code not in known.get(name, set())]
        for name, codes in spec.check_codes.items()
    }
    return StatsCounts(
        rows,
        figures,
        totals,
        {name: codes for name, codes in unknown.items() if codes},
        units,
        total_units,
    )


def _figure_value(measure: str, value: Any) -> int | float:
    return float(value) if measure in FRACTION_MEASURES else int(value)


def statement_for(spec: StatsSpec) -> Select[Any]:
    """The one statement answering `spec` (public so tests and benchmarks can EXPLAIN it)."""
    household = _household.alias("household")
    units = _units(spec, household)
    expressions = {
        **_household_expressions(household, spec),
        **(_person_expressions(units.person, spec.as_of) if units.person is not None else {}),
        **units.enrollment_columns,
    }
    conditions = [*units.conditions, *_range_conditions(household, spec)]
    for name, values in spec.filters.items():
        if name not in units.filtered_inside:
            conditions.append(expressions[name].in_(_filter_values(name, values, spec)))
    checks = [
        _known_codes(name, codes).label(f"known_{name}") for name, codes in spec.check_codes.items()
    ]

    figures = [_figure(household, spec, measure) for measure in spec.measures]
    figure_columns = [figure.label(f"figure_{i}") for i, figure in enumerate(figures)]

    if not spec.group_by:
        matching: Select[Any] = select(*figure_columns).select_from(units.source).where(*conditions)
        unit = matching.subquery("unit")
        return select(
            *_aggregates(spec, unit),
            literal(True).label("is_total"),
            *checks,
        ).select_from(unit)

    unit_columns = [expressions[name].label(name) for name in spec.group_by]
    unit_columns.extend(figure_columns)
    if units.first_of_household is not None:
        unit_columns.append(units.first_of_household.label("first_of_household"))
    unit = select(*unit_columns).select_from(units.source).where(*conditions).subquery("unit")
    dimensions = [unit.c[name] for name in spec.group_by]
    is_total = func.grouping(dimensions[0]) == 1
    first = None if units.first_of_household is None else unit.c.first_of_household
    return (
        select(
            *dimensions,
            *_aggregates(spec, unit, is_total, first),
            is_total.label("is_total"),
            *checks,
        )
        .group_by(func.grouping_sets(tuple_(*dimensions), tuple_()))
        .order_by(*dimensions)
    )


def _aggregates(
    spec: StatsSpec,
    unit: Any,
    is_total: ColumnElement[bool] | None = None,
    first: ColumnElement[bool] | None = None,
) -> list[ColumnElement[Any]]:
    """`count_i` and `units_i` of each measure. `first`: set when a unit is in one row per
    (programme, status) it has: within a group it appears once, but the grand total
    (`is_total`) must count it once overall."""
    columns: list[ColumnElement[Any]] = []
    for index, measure in enumerate(spec.measures):
        figure = unit.c[f"figure_{index}"]
        tally: ColumnElement[Any] = _tally(measure, figure)
        counted: ColumnElement[Any] = _units_of(measure, figure)
        if first is not None and is_total is not None:
            tally = case((is_total, _tally(measure, figure, first)), else_=tally)
            counted = case((is_total, _units_of(measure, figure, first)), else_=counted)
        columns += [tally.label(f"count_{index}"), counted.label(f"units_{index}")]
    return columns


def _figure(household: FromClause, spec: StatsSpec, measure: str) -> ColumnElement[Any]:
    """What each unit adds: 1 when units are counted; for the consumption measures, its
    household's predicted consumption per person (y = exp(score)) or its gap below the
    poverty line z of its area (null, adding nothing, when unscored, not below the line,
    or in an area without a line)."""
    if measure not in CONSUMPTION_MEASURES:
        return literal_column("1")
    score = household.c.pmt_score
    consumption = func.exp(cast(score, Float))
    if measure == "consumption":
        return consumption
    line, log_line = _poverty_line(household, spec)
    below = score < log_line
    gap = line - consumption
    ratio = literal(1.0, Float) - consumption / line
    value = {
        "poor_individuals": literal(1.0, Float),
        "poverty_gap": gap,
        "poverty_gap_squared": gap * gap,
        "poverty_gap_ratio": ratio,
        "poverty_gap_ratio_squared": ratio * ratio,
    }[measure]
    return case((below, value), else_=null())


def _poverty_line(
    household: FromClause, spec: StatsSpec
) -> tuple[ColumnElement[float], ColumnElement[Any]]:
    """z of each unit (DJF, as a float) and ln(z), compared with the stored score (ln of
    consumption) at no cost per row: one line, or the line of the household's area."""
    if spec.poverty_line is not None:
        line = spec.poverty_line
        return literal(line, Float), literal(log_consumption(line), Numeric())
    area = household.c.area
    lines = sorted(spec.poverty_lines.items())
    return (
        case(*((area == name, literal(amount, Float)) for name, amount in lines)),
        case(
            *((area == name, literal(log_consumption(amount), Numeric())) for name, amount in lines)
        ),
    )


def _tally(
    measure: str, figure: ColumnElement[Any], only: ColumnElement[bool] | None = None
) -> ColumnElement[Any]:
    """Counted units, or the figures summed (rounded to a whole number: francs, people;
    fractions to 6 places)."""
    if measure not in CONSUMPTION_MEASURES:
        counted = func.count()
        return counted if only is None else counted.filter(only)
    summed: ColumnElement[Any] = func.sum(figure)
    if only is not None:
        summed = summed.filter(only)
    if measure in FRACTION_MEASURES:
        return func.coalesce(func.round(cast(summed, Numeric()), 6), 0)
    return cast(func.coalesce(func.round(cast(summed, Numeric())), 0), BigInteger)


def _units_of(
    measure: str, figure: ColumnElement[Any], only: ColumnElement[bool] | None = None
) -> ColumnElement[int]:
    """The units a figure stands on: those counted, or those whose figure is summed (a
    consumption sum over one person is still one person)."""
    counted = func.count(figure) if measure in CONSUMPTION_MEASURES else func.count()
    return counted if only is None else counted.filter(only)


@dataclass
class _Units:
    """What is counted: the joined tables, the conditions that make a unit count, and where
    the person and enrollment dimensions come from."""

    source: FromClause
    conditions: list[ColumnElement[bool]]
    person: FromClause | None = None
    enrollment_columns: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    # Set when a unit can appear in several rows (one per programme/status).
    first_of_household: ColumnElement[bool] | None = None
    # Filters already applied inside an enrollment subquery.
    filtered_inside: frozenset[str] = frozenset()


def _units(spec: StatsSpec, household: FromClause) -> _Units:
    used = set(spec.group_by) | set(spec.filters)
    conditions: list[ColumnElement[bool]] = [household.c.status == "active"]
    # Several measures are always of the same units: the first says which.
    measure = spec.measures[0]
    if measure == "individuals" or measure in CONSUMPTION_MEASURES:
        person = _individual.alias("person")
        conditions.append(person.c.status == "active")
        source = person.join(household, household.c.id == person.c.household_id)
        return _with_enrollments(spec, _Units(source, conditions, person), household)

    if measure == "pmt_eligible":
        eligible = _eligibility()
        units = _Units(
            eligible.join(household, household.c.id == eligible.c.household_id),
            conditions,
            enrollment_columns={
                "programme": eligible.c.programme,
                "enrollment_status": eligible.c.enrollment_status,
            },
        )
    elif measure == "enrollments":
        enrollment = _enrollment.alias("enrollment")
        units = _Units(
            enrollment.join(household, household.c.id == enrollment.c.household_id),
            conditions,
            enrollment_columns={"enrollment_status": enrollment.c.status},
        )
        if "programme" in used:
            programme = _programme.alias("programme")
            units.source = units.source.join(programme, programme.c.id == enrollment.c.programme_id)
            units.enrollment_columns["programme"] = programme.c.code
    else:
        units = _with_enrollments(spec, _Units(household, conditions), household)

    if any(DIMENSIONS[name].level == "person" for name in used):
        # Outer: a household without a recorded head still counts (with no sex, age...).
        head = _individual.alias("head")
        units.person = head
        units.source = units.source.outerjoin(
            head,
            and_(
                head.c.household_id == household.c.id,
                head.c.relationship_to_head == "head",
                head.c.status == "active",
            ),
        )
    return units


def _with_enrollments(spec: StatsSpec, units: _Units, household: FromClause) -> _Units:
    """Households or individuals, by or filtered on their household's enrollments."""
    dimensions = [name for name in spec.group_by if DIMENSIONS[name].level == "enrollment"]
    filters = {
        name: values
        for name, values in spec.filters.items()
        if DIMENSIONS[name].level == "enrollment"
    }
    units.filtered_inside = frozenset(filters)
    if dimensions:
        groups = _enrollment_groups(dimensions, filters)
        on = groups.c.household_id == household.c.id
        # Without an enrollment filter, units with no enrollment stay, in the null group
        # ("not enrolled"): the total does not change with the grouping.
        join = units.source.join if filters else units.source.outerjoin
        units.source = join(groups, on)
        units.enrollment_columns = {name: groups.c[name] for name in dimensions}
        units.first_of_household = func.coalesce(groups.c.first_of_household, True)
    elif filters:
        units.conditions.append(household.c.id.in_(_enrolled_households(filters)))
    return units


def _household_expressions(household: FromClause, spec: StatsSpec) -> dict[str, Any]:
    refugee_villages = select(_admin_area.c.code).where(_admin_area.c.is_refugee_village)
    return {
        "region": household.c.region_code,
        "commune": household.c.commune_code,
        "locality": household.c.locality_code,
        "area": household.c.area,
        "refugee_village": household.c.locality_code.in_(refugee_villages),
        "displacement_status": household.c.displacement_status,
        "pmt_band": _pmt_band(household.c.pmt_score, spec.pmt_edges),
    }


def _person_expressions(person: FromClause, as_of: date) -> dict[str, Any]:
    return {
        "sex": person.c.sex,
        "age_group": _age_group(person.c.birth_date, as_of),
        "legal_status": person.c.legal_status,
        "disability": person.c.has_disability,
    }


def _age_group(birth_date: ColumnElement[date], as_of: date) -> ColumnElement[int | None]:
    """Index into FIXED_VALUES["age_group"]: 0 not yet born, then AGE_GROUPS in order.
    Compares the birth date with cut-off dates computed once, not an age per row."""
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (birth_date.is_(None), null()),
        (birth_date > as_of, 0),
    ]
    for index, (lowest, _) in enumerate(AGE_GROUPS[1:], start=1):
        whens.append((birth_date > years_before(as_of, lowest), index))
    return case(*whens, else_=len(AGE_GROUPS))


def _pmt_band(score: ColumnElement[Any], edges: Sequence[int]) -> ColumnElement[int]:
    """Index into the bands of `edges`, lowest first, then `unscored`."""
    bands = pmt_bands(list(edges))
    whens: list[tuple[ColumnElement[bool], Any]] = [(score.is_(None), len(bands))]
    for index, band in enumerate(bands[1:]):
        whens.append((score < literal(band.lowest_score, Numeric()), index))
    return case(*whens, else_=len(bands) - 1)


def _range_conditions(household: FromClause, spec: StatsSpec) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if spec.pmt_min is not None:
        conditions.append(
            household.c.pmt_score >= literal(log_consumption(spec.pmt_min), Numeric())
        )
    if spec.pmt_max is not None:
        conditions.append(
            household.c.pmt_score <= literal(log_consumption(spec.pmt_max), Numeric())
        )
    if spec.registered_from is not None:
        conditions.append(household.c.registration_date >= spec.registered_from)
    if spec.registered_to is not None:
        conditions.append(household.c.registration_date <= spec.registered_to)
    return conditions


def _enrollment_groups(dimensions: list[str], filters: Mapping[str, tuple[Any, ...]]) -> Any:
    """Per household, each distinct (programme, status) among the dimensions asked for,
    with a flag on one row per household for the grand total. Read from the enrollment
    table (tens of thousands of rows), never per household row."""
    enrollments, columns = _enrollments(filters)
    distinct = (
        enrollments.add_columns(*(columns[name].label(name) for name in dimensions))
        .distinct()
        .subquery("enrollment_distinct")
    )
    first = func.row_number().over(partition_by=distinct.c.household_id) == 1
    return select(distinct, first.label("first_of_household")).subquery("enrollments")


_STATUS_ORDER = ("active", "suspended", "exited")


def _eligibility() -> Any:
    """(household, programme) for each programme with a PMT threshold the household's
    predicted consumption is below, with its status in that programme: its best status
    when it has several enrollments there, null when none. Compared on the stored score
    (ln of consumption) against ln(threshold), as pmt_max does."""
    household = _household.alias("scored")
    programme = _programme.alias("programme")
    enrollment = _enrollment.alias("enrollment")
    rank = case(*((enrollment.c.status == s, i) for i, s in enumerate(_STATUS_ORDER)))
    best = (
        select(
            enrollment.c.household_id,
            enrollment.c.programme_id,
            func.min(rank).label("rank"),
        )
        .group_by(enrollment.c.household_id, enrollment.c.programme_id)
        .subquery("best_enrollment")
    )
    threshold = func.ln(cast(programme.c.pmt_max_consumption, Numeric()))
    status = case(*((best.c.rank == i, literal(s)) for i, s in enumerate(_STATUS_ORDER)))
    return (
        select(
            household.c.id.label("household_id"),
            programme.c.code.label("programme"),
            status.label("enrollment_status"),
        )
        .select_from(
            household.join(
                programme,
                and_(
                    programme.c.pmt_max_consumption.is_not(None),
                    household.c.pmt_score < threshold,
                ),
            ).outerjoin(
                best,
                and_(
                    best.c.household_id == household.c.id,
                    best.c.programme_id == programme.c.id,
                ),
            )
        )
        .subquery("eligible")
    )


def _enrolled_households(filters: Mapping[str, tuple[Any, ...]]) -> Select[Any]:
    return _enrollments(filters)[0]


def _enrollments(
    filters: Mapping[str, tuple[Any, ...]],
) -> tuple[Select[Any], dict[str, ColumnElement[Any]]]:
    """The household ids of the enrollments matching `filters` (programme and status of
    the same enrollment), and the enrollment dimensions' columns."""
    enrollment = _enrollment.alias("enrollment")
    programme = _programme.alias("programme")
    columns: dict[str, ColumnElement[Any]] = {
        "programme": programme.c.code,
        "enrollment_status": enrollment.c.status,
    }
    matching = (
        select(enrollment.c.household_id)
        .select_from(enrollment.join(programme, programme.c.id == enrollment.c.programme_id))
        .where(*(columns[name].in_(values) for name, values in filters.items()))
    )
    return matching, columns


def _filter_values(name: str, values: tuple[Any, ...], spec: StatsSpec) -> list[Any]:
    """Labels of age groups and PMT bands -> the integers the SQL groups on."""
    labels = _ordinal_labels(spec).get(name)
    if labels is None:
        return list(values)
    return [labels.index(value) for value in values]


def _ordinal_labels(spec: StatsSpec) -> dict[str, tuple[str, ...]]:
    return {
        "age_group": FIXED_VALUES["age_group"],
        "pmt_band": pmt_band_values(list(spec.pmt_edges)),
    }


def _decode(value: Any, labels: tuple[str, ...] | None) -> Any:
    if labels is None or value is None:
        return value
    return labels[value]


def _known_codes(name: str, codes: tuple[str, ...]) -> Any:
    if name == "programme":
        return (
            select(func.array_agg(_programme.c.code))
            .where(_programme.c.code.in_(codes))
            .scalar_subquery()
        )
    return (
        select(func.array_agg(_admin_area.c.code))
        .where(_admin_area.c.code.in_(codes), _admin_area.c.level == DIMENSIONS[name].area_level)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class ReferenceValue:
    code: str
    label: str


async def reference_values(session: AsyncSession) -> dict[str, list[ReferenceValue]]:
    """Values of the table-backed dimensions for the catalogue: areas by level, programmes."""
    areas = await session.execute(
        select(_admin_area.c.code, _admin_area.c.name, _admin_area.c.level).order_by(
            _admin_area.c.code
        )
    )
    by_level = {1: "region", 2: "commune", 3: "locality"}
    values: dict[str, list[ReferenceValue]] = {name: [] for name in by_level.values()}
    for code, name, level in areas:
        values[by_level[level]].append(ReferenceValue(code, name))
    programmes = await session.execute(
        select(_programme.c.code, _programme.c.name_en).order_by(_programme.c.code)
    )
    values["programme"] = [ReferenceValue(code, name) for code, name in programmes]
    return values
