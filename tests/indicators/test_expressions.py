"""The expression language on its own: what parses, what it evaluates to, and what hostile
or mistaken text gets back (a clear error at a position, never a crash or a slow parse)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.indicators.expressions.checker import check
from services.indicators.expressions.errors import ExpressionError
from services.indicators.expressions.evaluator import NoValue, evaluate
from services.indicators.expressions.names import Dimension, IndicatorRef, MeasureInfo, Names
from services.indicators.expressions.nodes import Measure
from services.indicators.expressions.parser import MAX_DEPTH, parse

NAMES = Names(
    measures={
        "individuals": MeasureInfo(
            "individuals",
            "beneficiaries",
            "count",
            "people",
            "",
            {
                "sex": Dimension("sex", frozenset({"F", "M"})),
                "region": Dimension("region", frozenset({"DJ-OB", "DJ-AS"})),
                "programme": Dimension("programme", frozenset({"pnsf"})),
                "pmt_band": Dimension("pmt_band", frozenset({"<60000", ">=60000"})),
                "disability": Dimension("disability", frozenset({"true", "false"})),
            },
        ),
        "population": MeasureInfo(
            "population",
            "reference",
            "count",
            "people",
            "",
            {"sex": Dimension("sex", frozenset({"F", "M"})), "year": Dimension("year")},
        ),
    },
    indicators={
        "A": IndicatorRef("A", frozenset({"B"})),
        "B": IndicatorRef("B", frozenset()),
    },
)


def _values(**figures: int) -> object:
    def lookup(measure: Measure) -> Decimal:
        key = measure.text()
        if key not in figures:
            raise NoValue(f"no figure for {key}")
        return Decimal(figures[key])

    return lookup


def _error(text: str, names: Names = NAMES, defining: str | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        check(parse(text), names, defining)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),  # left to right, not 10 - (4 - 3)
        ("12 / 4 / 3", Decimal(1)),
        ("--5", Decimal(5)),
        ("-2 * -3", Decimal(6)),
        ("0.5 * 4", Decimal(2)),
        ("if(2 > 1 and 3 != 3 or 1 <= 1, 7, 8)", Decimal(7)),
        ("if(2 < 1, 7, 8)", Decimal(8)),
        ("greatest(1, 5, 3) + least(4, 2)", Decimal(7)),
        ("coalesce(#{population|sex=F}, 99)", Decimal(99)),
    ],
)
def test_arithmetic_follows_the_usual_rules(text: str, expected: Decimal) -> None:
    tree = parse(text)
    check(tree, NAMES)
    assert evaluate(tree, _values()).value == expected  # type: ignore[arg-type]


def test_the_domain_example_parses_with_its_filters_and_evaluates() -> None:
    text = "#{individuals|programme=pnsf,sex=F} / #{population|sex=F} * 100"
    tree = parse(text)
    uses = check(tree, NAMES)
    assert uses.measures == {"individuals", "population"}
    lookup = _values(**{"#{individuals|programme=pnsf,sex=F}": 30, "#{population|sex=F}": 120})
    assert evaluate(tree, lookup).value == Decimal(25)  # type: ignore[arg-type]


def test_filters_take_lists_exclusions_and_quoted_values() -> None:
    tree = parse('#{individuals|region in (DJ-OB, DJ-AS), sex != M, pmt_band="<60000"}')
    assert isinstance(tree, Measure)
    assert [(f.dimension, f.operator, f.values) for f in tree.filters] == [
        ("region", "in", ("DJ-OB", "DJ-AS")),
        ("sex", "!=", ("M",)),
        ("pmt_band", "=", ("<60000",)),
    ]
    check(tree, NAMES)


def test_a_division_by_zero_or_a_missing_figure_is_no_value_with_its_reason() -> None:
    assert evaluate(parse("1 / (2 - 2)"), _values()).reason == "division by zero"  # type: ignore[arg-type]
    missing = evaluate(parse("#{population|sex=F} + 1"), _values())  # type: ignore[arg-type]
    assert missing.value is None
    assert missing.reason == "no figure for #{population|sex=F}"


def test_the_whole_tree_is_walked_without_recursion_limits_on_long_sums() -> None:
    text = "+".join(["1"] * 900)
    assert evaluate(parse(text), _values()).value == Decimal(900)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("1 +", "ends too early", 4),
        ("1 + + 2", "unexpected '+'", 5),
        ("#{population", "ends too early", 13),
        ("(1 + 2", "ends too early", 7),
        ("1 ; DROP TABLE indicator", "unexpected character ';'", 3),
        ("__import__('os').system('rm -rf /')", "unexpected", 1),
        ("#{population}} or 1 == 1", "unexpected", 14),
        ("1e309", "unexpected", 2),
        ("", "empty", 1),
    ],
)
def test_syntax_errors_name_their_position(text: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.position.column == column


def test_an_expression_ten_thousand_levels_deep_is_refused_at_the_level_too_deep() -> None:
    for text in ("(" * 10_000 + "1" + ")" * 10_000, "-(" * 5_000 + "1", "-" * 1_500 + "1"):
        with pytest.raises(ExpressionError) as caught:
            parse(text)
        assert f"more than {MAX_DEPTH} levels deep" in caught.value.message
    # Ten thousand negations are refused too, for their length (before any parsing).
    with pytest.raises(ExpressionError, match="longer than"):
        parse("-" * 10_000 + "1")


def test_nesting_within_the_limit_parses() -> None:
    depth = MAX_DEPTH - 1
    assert evaluate(parse("(" * depth + "1" + ")" * depth), _values()).value == 1  # type: ignore[arg-type]


def test_huge_numbers_and_huge_texts_are_refused() -> None:
    with pytest.raises(ExpressionError, match="number too long"):
        parse("9" * 400)
    with pytest.raises(ExpressionError, match="number too long"):
        parse("1." + "1" * 50)
    with pytest.raises(ExpressionError, match="longer than 2000"):
        parse("1+" * 2000 + "1")


def test_unknown_measures_dimensions_and_values_are_named_where_they_stand() -> None:
    unknown = _error("1 + #{households_surveyed}")
    assert "unknown measure 'households_surveyed'" in unknown.message
    assert unknown.position.column == 5
    dimension = _error("#{population|programme=pnsf}")
    assert "population has no dimension 'programme'" in dimension.message
    assert dimension.position.column == 14
    value = _error("#{individuals|region=DJ-XX}")
    assert "'DJ-XX' is not a value of region" in value.message
    assert "DJ-AS, DJ-OB" in value.message
    twice = _error("#{individuals|sex=F,sex=M}")
    assert "filtered twice" in twice.message


def test_type_errors_are_refused() -> None:
    assert "must give a number" in _error("#{population} > 3").message
    assert "joins conditions" in _error("1 and 2").message
    assert "compares numbers" in _error("(1 > 2) == 3").message
    assert "first argument of if is a condition" in _error("if(1, 2, 3)").message
    assert "three arguments" in _error("if(1 > 2, 3)").message
    assert "at least two" in _error("greatest(1)").message


def test_indicators_are_used_by_code_and_a_cycle_is_refused() -> None:
    assert check(parse("#{A} + 1"), NAMES, defining="C").indicators == {"A"}
    itself = _error("#{C} * 2", defining="C")
    assert itself.message == "cycle: C -> C"
    through = _error("#{A}", defining="B")  # B would use A, which uses B
    assert through.message == "cycle: B -> A -> B"
    assert "takes no filters" in _error("#{A|sex=F}", defining="C").message
