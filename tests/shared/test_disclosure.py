"""The small-cell rule itself (shared/disclosure.py), on tables small enough to check by
hand; the services' tests check it through `/stats`."""

from __future__ import annotations

from shared.disclosure import protect, suppressed_cells


def withheld(table: dict[tuple[str, ...], int], threshold: int = 5) -> set[tuple[str, ...]]:
    keys = list(table)
    return {keys[i] for i in suppressed_cells(keys, list(table.values()), threshold)}


def test_a_lone_small_cell_takes_the_smallest_other_with_it() -> None:
    assert withheld({("a",): 40, ("b",): 3, ("c",): 9, ("d",): 12}) == {("b",), ("c",)}
    assert withheld({("a",): 40, ("b",): 9}) == set()


def test_two_small_cells_that_together_are_still_small_take_a_third() -> None:
    assert withheld({("a",): 40, ("b",): 2, ("c",): 2, ("d",): 30}) == {("b",), ("c",), ("d",)}
    # Two ones make 2 in all, and a row exists only when it counts at least 1: both 1.
    assert withheld({("a",): 40, ("b",): 1, ("c",): 1, ("d",): 30}, threshold=2) == {
        ("b",),
        ("c",),
        ("d",),
    }


def test_every_line_of_a_table_holds_none_or_two_withheld() -> None:
    table = {
        ("r1", "x"): 10,
        ("r1", "y"): 2,
        ("r1", "z"): 30,
        ("r2", "x"): 11,
        ("r2", "y"): 12,
        ("r2", "z"): 31,
        ("r3", "x"): 40,
        ("r3", "y"): 41,
        ("r3", "z"): 42,
    }
    hidden = withheld(table)
    assert ("r1", "y") in hidden
    for position in (0, 1):
        for value in {cell[position] for cell in table}:
            line = [cell for cell in table if cell[position] == value]
            assert len([cell for cell in line if cell in hidden]) in (0, 2, 3), line
    # The smallest complements: x of r1 (10) and r2's y (12), then r2's x (11) closes both.
    assert hidden == {("r1", "y"), ("r1", "x"), ("r2", "y"), ("r2", "x")}


def test_a_cell_alone_in_its_other_line_is_no_complement() -> None:
    # r2's only cell is r2's total, which the caller reads: withholding it would hide
    # nothing. r3's x is withheld instead, though larger.
    table = {("r1", "x"): 3, ("r1", "y"): 20, ("r2", "x"): 6, ("r3", "x"): 8, ("r3", "y"): 9}
    assert withheld(table) == {("r1", "x"), ("r1", "y"), ("r3", "x"), ("r3", "y")}


def test_protect_withholds_every_figure_and_drops_helpers() -> None:
    rows = [
        {"region": "A", "value": 90_000, "units": 3},
        {"region": "B", "value": 600_000, "units": 20},
        {"region": "C", "value": 210_000, "units": 7},
    ]
    protected = protect(
        rows,
        dimensions=["region"],
        total=900_000,
        total_units=30,
        threshold=5,
        units="units",
        drop=("units",),
    )
    assert protected.rows == [
        {"region": "A", "value": None, "suppressed": True},
        {"region": "B", "value": 600_000},
        {"region": "C", "value": None, "suppressed": True},
    ]
    assert protected.total == 900_000
    assert protected.control.suppressed_rows == 2
    assert rows[0]["value"] == 90_000  # the rows given are left as they were

    none = protect(
        [{"count": 4}], dimensions=[], total=4, total_units=4, threshold=5, units="count"
    )
    assert none.rows == [{"count": None, "suppressed": True}]
    assert none.total is None and none.control.total_suppressed


def test_threshold_one_withholds_nothing() -> None:
    assert withheld({("a",): 1, ("b",): 1}, threshold=1) == set()
