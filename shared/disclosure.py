"""Statistical disclosure control of aggregate answers (`/stats` of every service): small
cells withheld, and enough other cells withheld with them that no withheld cell can be
worked out from the totals.

Who is protected against: a caller without access to personal data (an analyst) who could
otherwise read "1 refugee household head with a disability in this locality" and know who
it is. Callers who may read the records themselves (registry staff, finance staff) and the
INDS services computing indicators get exact figures; each service says which roles.

The rule, for an answer grouped by k dimensions:

1. Primary: a cell counting at least 1 and fewer than `threshold` units (people,
   households, payment lines...) is withheld. Zero is not a small cell (no one to
   identify) and cells without units are not rows of the answer anyway.
2. Complementary: a *line* is the set of cells that share the values of every dimension
   but one: its total is the cell of the grouping by the other k-1 dimensions, which the
   caller can ask for (and with one dimension, the answer's own `total`). A line holding a
   withheld cell must hold at least two, together at least `threshold` units and more
   units than cells (so neither a small group nor "they are all ones" can be read off the
   line's total); until it does, its smallest shown cell is withheld too (ties: the first
   in the answer's order), passing over cells that are alone in another of their lines
   (such a cell is that line's total, so withholding it would hide nothing) and preferring
   one whose other line needs a complement too. Withholding one cell may leave another
   line exposed, so lines are checked again until none is.
3. Every figure of a withheld cell goes with it: the count, and any sum over the same
   group (amounts, consumption), which would otherwise give the count away.
4. The answer's total is withheld when it is itself a small cell.

What this does not cover, said so that nobody relies on it: differences between answers to
different filters (the registry takes analysts' registration dates in whole months and ages
on the first of a month, but a PMT bound one franc apart is a step too) and structural
knowledge (a row exists, so it counts at least 1). A line whose cells are all withheld, each
a 1, with a total the caller may read, is the one case rule 2 cannot close within an answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field

DEFAULT_THRESHOLD = 5
SuppressionThreshold = Annotated[
    int,
    Field(
        ge=1,
        le=1000,
        description="Cells counting fewer units than this (and at least 1) are withheld "
        "from callers without personal-data access; 1 turns the protection off.",
    ),
]
SUPPRESSED = "suppressed"

RULE = (
    "Callers without access to personal data get protected figures. A cell counting at "
    "least 1 and fewer than `threshold` units is withheld: its figures are null and the row "
    "carries `suppressed: true`. So that a withheld cell cannot be worked out from a total "
    "(the answer's `total`, or a cell of the same query grouped by one dimension fewer), "
    "every line of cells sharing all dimension values but one holds either no withheld cell "
    "or at least two, together at least `threshold` units and more units than cells: the "
    "line's smallest other cells are withheld with it (not one alone in another line, which "
    "is that line's total). Sums over a withheld group (amounts) "
    "are withheld with its count. The total is null when it is itself below the threshold. "
    "Exact figures go to the roles listed in `exact_for`, and to INDS services."
)


class DisclosureControl(BaseModel):
    """How an answer was protected (null on an exact answer)."""

    threshold: int = Field(description="Cells counting at least 1 and fewer than this.")
    suppressed_rows: int = Field(
        description="Rows withheld (`suppressed: true`), small or complementary."
    )
    total_suppressed: bool = Field(description="Whether `total` is withheld (null).")


class DisclosureRule(BaseModel):
    """The protection of `/stats`, as the catalogue publishes it."""

    threshold: int = Field(
        description="Cells counting at least 1 and fewer than this many units are withheld."
    )
    applies_to_caller: bool = Field(
        description="Whether your answers are protected (false: you get exact figures)."
    )
    exact_for: list[str] = Field(description="The roles that get exact figures.")
    rule: str = RULE


@dataclass
class Protected:
    rows: list[dict[str, Any]]
    total: int | float | None
    control: DisclosureControl


def is_small(units: int, threshold: int) -> bool:
    return 0 < units < threshold


def protect(
    rows: Sequence[Mapping[str, Any]],
    *,
    dimensions: Sequence[str],
    total: int | float,
    total_units: int,
    threshold: int,
    units: str,
    drop: Sequence[str] = (),
) -> Protected:
    """`rows` (each its dimension values, `units` the units the cell holds, and its
    figures) with the withheld rows' figures set to null and flagged `suppressed: true`.
    Every member that is not a dimension is a figure. `drop`: members that served the
    decision only and leave every row (a unit count beside a sum). `total` is the answer's
    total figure, withheld when `total_units` is small."""
    keys = [tuple(row[name] for name in dimensions) for row in rows]
    withheld = suppressed_cells(keys, [int(row[units]) for row in rows], threshold)
    protected: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        shown = {name: value for name, value in row.items() if name not in drop}
        if index in withheld:
            shown = {name: (value if name in dimensions else None) for name, value in shown.items()}
            shown[SUPPRESSED] = True
        protected.append(shown)
    total_withheld = is_small(total_units, threshold)
    return Protected(
        rows=protected,
        total=None if total_withheld else total,
        control=DisclosureControl(
            threshold=threshold, suppressed_rows=len(withheld), total_suppressed=total_withheld
        ),
    )


def suppressed_cells(
    keys: Sequence[tuple[Hashable, ...]], units: Sequence[int], threshold: int
) -> set[int]:
    """The indexes of the cells to withhold: the small ones, and the complementary ones
    each line needs (see the module's rule). `keys[i]` is cell i's dimension values."""
    small = [index for index, count in enumerate(units) if is_small(count, threshold)]
    if not small or not keys or not keys[0]:
        return set(small)
    lines = _lines(keys)
    lines_of: dict[int, list[int]] = defaultdict(list)
    for number, line in enumerate(lines):
        for index in line:
            lines_of[index].append(number)
    # Per line, how many of its cells are withheld and how many units they hold.
    hidden_cells = [0] * len(lines)
    hidden_units = [0] * len(lines)
    withheld: set[int] = set()

    def withhold(index: int) -> None:
        withheld.add(index)
        for number in lines_of[index]:
            hidden_cells[number] += 1
            hidden_units[number] += units[index]

    def exposed(number: int) -> bool:
        cells, together = hidden_cells[number], hidden_units[number]
        return cells > 0 and not (cells >= 2 and together >= threshold and together > cells)

    def preference(index: int, current: int) -> tuple[bool, bool, int, int]:
        # A cell alone in one of its lines is that line's total, which the caller can read:
        # as a complement it would be given away, and the cell it covers with it. A cell
        # whose other line is exposed too covers two lines at once. Then the smallest.
        alone = any(len(lines[number]) == 1 for number in lines_of[index])
        helps = any(number != current and exposed(number) for number in lines_of[index])
        return (alone, not helps, units[index], index)

    for index in small:
        withhold(index)
    changed = True
    while changed:
        changed = False
        for number, line in enumerate(lines):
            while exposed(number):
                shown = [index for index in line if index not in withheld]
                if not shown:
                    break  # the line's total is these cells' own: small, or all ones
                withhold(min(shown, key=lambda index: preference(index, number)))
                changed = True
    return withheld


def _lines(keys: Sequence[tuple[Hashable, ...]]) -> list[list[int]]:
    """Every line: the cells sharing all dimension values but the one at each position."""
    lines: list[list[int]] = []
    for position in range(len(keys[0])):
        groups: dict[tuple[Hashable, ...], list[int]] = defaultdict(list)
        for index, key in enumerate(keys):
            groups[key[:position] + key[position + 1 :]].append(index)
        lines.extend(groups.values())
    return lines
