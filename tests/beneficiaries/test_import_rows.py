"""An import file's rows as the registry reads them: every problem of a household's rows at
once, each with its row and column, and dates and spellings as people really write them."""

from __future__ import annotations

from datetime import date

import pytest

from inds.synthetic.files import HEADER, import_rows
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.imports.parse import ParsedHousehold, parse_household, read_date
from services.beneficiaries.models import AdminArea


def _household(seed: int = 4, members: int = 2) -> list[tuple[int, dict]]:
    """The rows (number, {column: text}) of a synthetic household of at least `members`."""
    for household in RegistryGenerator(seed=seed).households(50):
        if len(household["members"]) >= members:
            return [
                (number, dict(zip(HEADER, row, strict=True)))
                for number, row in enumerate(import_rows(household), start=2)
            ]
    raise AssertionError("no household that large")


def _localities(rows: list[tuple[int, dict]]) -> dict[str, AdminArea]:
    code = rows[0][1]["locality_code"]
    return {code: AdminArea(code=code, name="here", level=3, region_code="DJ-DJ", area="urban")}


def _problems(parsed: ParsedHousehold) -> set[tuple[int, str | None]]:
    return {(error.row, error.column) for error in parsed.errors}


def test_a_valid_household_reads_as_the_api_would_take_it() -> None:
    rows = _household()
    parsed = parse_household(rows, _localities(rows))
    assert parsed.errors == []
    assert parsed.household is not None
    assert len(parsed.household.members) == len(rows)


def test_an_unknown_sex_and_a_day_that_does_not_exist_are_both_reported() -> None:
    rows = _household()
    number, person = rows[1]
    person["sex"] = "X"
    person["birth_date"] = "31/02/1990"
    parsed = parse_household(rows, _localities(rows))
    assert parsed.household is None
    by_column = {error.column: error for error in parsed.errors}
    assert _problems(parsed) == {(number, "sex"), (number, "birth_date")}
    assert by_column["birth_date"].message == "there is no day 31 in February 1990"
    assert by_column["birth_date"].value == "31/02/1990"
    assert by_column["sex"].value == "X"


def test_an_unknown_locality_is_reported_beside_the_members_problems() -> None:
    rows = _household()
    rows[0][1]["locality_code"] = "DJ-XX-NOWHERE"
    rows[1][1]["consent_given"] = "perhaps"  # a household column, on a later row: ignored
    rows[0][1]["pregnant"] = "maybe"
    rows[1][1]["given_name"] = "Am1na"
    parsed = parse_household(rows, _localities(_household()))
    assert _problems(parsed) == {
        (rows[0][0], "locality_code"),
        (rows[0][0], "pregnant"),
        (rows[1][0], "given_name"),
    }
    assert {e.message for e in parsed.errors if e.column == "locality_code"} == {
        "not a known locality"
    }


def test_a_second_head_is_reported_with_a_bad_cell_of_another_member() -> None:
    rows = _household(members=3)
    for _, person in rows:
        person["relationship_to_head"] = "head"
    rows[2][1]["birth_date"] = "1990-13-01"
    parsed = parse_household(rows, _localities(rows))
    messages = {(e.row, e.column): e.message for e in parsed.errors}
    assert messages[(rows[2][0], "birth_date")] == "there is no month 13"
    assert "exactly one head" in messages[(rows[0][0], "relationship_to_head")]


def test_every_bad_cell_of_a_household_row_is_listed_once() -> None:
    rows = _household()
    first = rows[0][1]
    first["registration_date"] = "2031-01-01"  # in the future
    first["consent_given"] = ""
    first["rooms"] = "many"
    first["disability_seeing"] = "two"
    parsed = parse_household(rows, _localities(rows))
    columns = [e.column for e in parsed.errors if e.row == rows[0][0]]
    assert sorted(columns) == sorted(
        ["registration_date", "consent_given", "rooms", "disability_seeing"]
    )
    assert len(columns) == len(set(columns))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1987-03-05", date(1987, 3, 5)),
        ("1987-3-5", date(1987, 3, 5)),
        ("1987-03-05 00:00:00", date(1987, 3, 5)),
        ("05/03/1987", date(1987, 3, 5)),
        ("5.3.1987", date(1987, 3, 5)),
        ("05-03-1987", date(1987, 3, 5)),
        ("05/03/87", date(1987, 3, 5)),
        ("05/03/05", date(2005, 3, 5)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_dates_as_people_write_them(text: str, expected: date) -> None:
    assert read_date(text, today_=date(2026, 12, 2)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/02/1990", "there is no day 31 in February 1990"),
        ("29/02/2023", "there is no day 29 in February 2023"),
        ("12/31/1990", "there is no month 31 (dates are written day/month/year)"),
        ("32874", "a number, not a date"),
        ("March 1987", "expected a date as DD/MM/YYYY or YYYY-MM-DD"),
    ],
)
def test_dates_that_cannot_be_read_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_date(text, today_=date(2026, 12, 2))


def test_a_two_digit_year_is_never_read_in_the_future() -> None:
    assert read_date("01/01/27", today_=date(2026, 12, 2)) == date(1927, 1, 1)
    assert read_date("01/01/26", today_=date(2026, 12, 2)) == date(2026, 1, 1)


def test_french_and_english_spellings_of_closed_lists() -> None:
    rows = _household(members=2)
    head, other = rows[0][1], rows[1][1]
    head.update(
        relationship_to_head="Chef de ménage",
        sex="Femme",
        consent_given="Oui",
        water_source="Public tap",
        area="Urbain",
        birth_date="03/04/1980",
    )
    other.update(relationship_to_head="Épouse", sex="masculin", pregnant="Non")
    parsed = parse_household(rows, _localities(rows))
    assert parsed.errors == [], parsed.errors
    assert parsed.household is not None
    first, second = parsed.household.members[:2]
    assert (first.relationship_to_head, first.sex, first.birth_date) == (
        "head",
        "F",
        date(1980, 4, 3),
    )
    assert (second.relationship_to_head, second.sex) == ("spouse", "M")
    assert parsed.household.living_conditions.water_source == "public_tap"
    assert parsed.household.location.area == "urban"


def test_a_spelling_the_registry_does_not_know_is_reported_as_written() -> None:
    rows = _household()
    rows[0][1]["water_source"] = "Rivière magique"
    parsed = parse_household(rows, _localities(rows))
    assert [(e.column, e.value) for e in parsed.errors] == [("water_source", "Rivière magique")]


async def test_the_reading_thread_stops_when_the_import_does() -> None:
    import contextlib
    import threading

    from services.beneficiaries.imports.job import _read_ahead

    made: list[int] = []

    def numbers():
        for number in range(1000):
            made.append(number)
            yield number

    async with contextlib.aclosing(_read_ahead(numbers(), depth=2)) as items:
        async for item in items:
            assert item == 0
            break
    assert len(made) < 10, "read a few ahead, not the whole file"
    assert not any(t.name == "import-reader" for t in threading.enumerate())


async def test_a_reading_error_reaches_the_import() -> None:
    from services.beneficiaries.imports.job import _read_ahead
    from services.beneficiaries.imports.reader import UnreadableFile

    def broken():
        yield 1
        raise UnreadableFile("The file is not UTF-8 text throughout.")

    got = []
    with pytest.raises(UnreadableFile, match="UTF-8"):
        async for item in _read_ahead(broken()):
            got.append(item)
    assert got == [1]
