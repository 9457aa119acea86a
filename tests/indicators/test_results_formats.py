"""The results formats of /values and of a snapshot's values — CSV, the DHIS2-style
analytics view, SDMX-JSON 2.0 data messages — each read back as its readers would read it
(a CSV reader; DHIS2's headers and rows; SDMX's series keys decoded through the
structure), over the hand-made registry set (tests/indicators/registry_set.py), with French
or English labels."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from services.indicators.values.formats.language import preferred
from shared.db import Database
from tests.indicators.payloads import BASE
from tests.indicators.registry_set import percent
from tests.indicators.test_snapshots import _take
from tests.support.tokens import TokenFactory

VALUES = f"{BASE}/values"
SDG131_BY_REGION_SEX = {"indicator": "SDG131", "period": "2026", "by": "region,sex"}
# SDG131 by region and sex, worked out in tests/indicators/test_values.py: people covered
# over the population.
EXPECTED = {
    ("_T", "_T"): (5, 340),
    ("DJ-DJ", "F"): (2, 100),
    ("DJ-DJ", "M"): (1, 100),
    ("DJ-AS", "F"): (1, 50),
    ("DJ-AS", "M"): (1, 50),
    ("DJ-OB", "F"): (0, 20),
    ("DJ-OB", "M"): (0, 20),
}


async def _get(
    indicators: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str
) -> httpx.Response:
    answer = await indicators.get(path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def _dhis2_table(view: dict[str, Any]) -> list[dict[str, str]]:
    names = [header["name"] for header in view["headers"]]
    assert view["width"] == len(names) and view["height"] == len(view["rows"])
    return [dict(zip(names, row, strict=True)) for row in view["rows"]]


def _sdmx_observations(message: dict[str, Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Each observation by its key's value ids (series dimensions, then time period), with
    its value and its attributes' value ids: as an SDMX-JSON 2.0 reader decodes them."""
    data_set = message["data"]["dataSets"][0]
    structure = message["data"]["structures"][data_set["structure"]]
    series_dimensions = sorted(
        structure["dimensions"]["series"], key=lambda dimension: dimension["keyPosition"]
    )
    (time,) = structure["dimensions"]["observation"]
    attributes = structure["attributes"]["observation"]
    found = {}
    for key, series in data_set["series"].items():
        ids = [
            dimension["values"][int(index)]["id"]
            for dimension, index in zip(series_dimensions, key.split(":"), strict=True)
        ]
        for position, observation in series["observations"].items():
            value, *indexes = observation
            found[(*ids, time["values"][int(position)]["id"])] = {
                "value": value,
                **{
                    attribute["id"]: None if index is None else attribute["values"][index]["id"]
                    for attribute, index in zip(attributes, indexes, strict=True)
                },
                "unit": structure["attributes"]["series"][0]["values"][series["attributes"][0]][
                    "name"
                ],
            }
    return found


def test_the_language_is_the_best_one_accept_language_names() -> None:
    assert preferred("en-GB;q=0.8, fr;q=0.9") == "fr"
    assert preferred("de, en-US;q=0.5") == "en"
    assert preferred("de") == preferred(None) == preferred("en;q=0") == "fr"


async def test_json_rows_come_with_their_labels(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    french = (await _get(indicators, VALUES, officer, **SDG131_BY_REGION_SEX)).json()["labels"]
    assert french == {
        "lang": "fr",
        "indicators": {"SDG131": "Couverture du PNSF"},
        "dimensions": {"region": "Région", "sex": "Sexe"},
        "values": {
            "region": {"DJ-AS": "Ali Sabieh", "DJ-DJ": "Djibouti", "DJ-OB": "Obock"},
            "sex": {"F": "Féminin", "M": "Masculin"},
        },
    }
    english = (
        await _get(indicators, VALUES, {**officer, "Accept-Language": "en"}, **SDG131_BY_REGION_SEX)
    ).json()["labels"]
    assert english["indicators"] == {"SDG131": "Population covered by at least one programme"}
    assert english["values"]["sex"] == {"F": "Female", "M": "Male"}


async def test_values_as_csv(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    answer = await _get(
        indicators, VALUES, officer, **SDG131_BY_REGION_SEX, format="csv", lang="en"
    )
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-language"] == "en"
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    cells = {(row["region"] or "_T", row["sex"] or "_T"): row for row in rows}
    assert set(cells) == set(EXPECTED)
    for cell, (numerator, denominator) in EXPECTED.items():
        row = cells[cell]
        assert (row["numerator"], row["denominator"]) == (str(numerator), str(denominator))
        assert Decimal(row["value"]) == percent(numerator, denominator)
        assert row["indicator_name"] == "Population covered by at least one programme"
    assert (cells[("DJ-AS", "F")]["region_label"], cells[("DJ-AS", "F")]["sex_label"]) == (
        "Ali Sabieh",
        "Female",
    )
    # The overall value: no region, no label.
    assert cells[("_T", "_T")]["region_label"] == ""


async def test_values_as_a_dhis2_analytics_view(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    view = (
        await _get(
            indicators,
            VALUES,
            {**officer, "Accept-Language": "fr-DJ, en;q=0.5"},
            **SDG131_BY_REGION_SEX,
            format="dhis2",
        )
    ).json()
    assert [header["name"] for header in view["headers"]] == [
        "dx",
        "pe",
        "region",
        "sex",
        "value",
        "numerator",
        "denominator",
    ]
    assert [header["column"] for header in view["headers"]][:4] == [
        "Données",
        "Période",
        "Région",
        "Sexe",
    ]
    table = {(row["region"], row["sex"]): row for row in _dhis2_table(view)}
    assert set(table) == set(EXPECTED)
    for cell, (numerator, denominator) in EXPECTED.items():
        row = table[cell]
        assert (row["dx"], row["pe"]) == ("SDG131", "2026")
        assert Decimal(row["value"]) == percent(numerator, denominator)
        assert (row["numerator"], row["denominator"]) == (str(numerator), str(denominator))
    meta = view["metaData"]
    assert meta["dimensions"] == {
        "dx": ["SDG131"],
        "pe": ["2026"],
        "region": ["DJ-AS", "DJ-DJ", "DJ-OB", "_T"],
        "sex": ["F", "M", "_T"],
    }
    names = {code: item["name"] for code, item in meta["items"].items()}
    assert names["SDG131"] == "Couverture du PNSF"
    assert (names["F"], names["DJ-OB"], names["_T"], names["sex"]) == (
        "Féminin",
        "Obock",
        "Total",
        "Sexe",
    )

    # An analyst: the cells counted from 1 or 2 people are withheld, so have no row.
    shown = _dhis2_table(
        (await _get(indicators, VALUES, analyst, **SDG131_BY_REGION_SEX, format="dhis2")).json()
    )
    assert {(row["region"], row["sex"]) for row in shown} == {
        ("_T", "_T"),
        ("DJ-OB", "F"),
        ("DJ-OB", "M"),
    }


async def test_values_as_an_sdmx_json_data_message(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    answer = await _get(
        indicators, VALUES, officer, **SDG131_BY_REGION_SEX, format="sdmx", lang="en"
    )
    assert answer.headers["content-type"].startswith("application/vnd.sdmx.data+json")
    message = answer.json()
    assert message["meta"]["contentLanguages"] == ["en"]
    assert message["meta"]["schema"].endswith("/2.0.0/sdmx-json-data-schema.json")
    structure = message["data"]["structures"][0]
    assert [d["id"] for d in structure["dimensions"]["series"]] == ["INDICATOR", "REGION", "SEX"]
    assert structure["dimensions"]["series"][0]["values"] == [
        {
            "id": "SDG131",
            "name": "Population covered by at least one programme",
            "names": {
                "fr": "Couverture du PNSF",
                "en": "Population covered by at least one programme",
            },
        }
    ]
    observations = _sdmx_observations(message)
    assert {key[1:3] for key in observations} == set(EXPECTED)
    for (region, sex), (numerator, denominator) in EXPECTED.items():
        observation = observations[("SDG131", region, sex, "2026")]
        assert Decimal(str(observation["value"])) == percent(numerator, denominator)
        assert observation["OBS_STATUS"] == "A"
        # Fewer than 5 people counted: confidential (no one counted is not a small cell).
        assert observation["CONF_STATUS"] == ("C" if 0 < numerator < 5 else "F")
        assert observation["TARGET_STATUS"] == "no_target"
        assert observation["unit"] == "%"

    withheld = _sdmx_observations(
        (await _get(indicators, VALUES, analyst, **SDG131_BY_REGION_SEX, format="sdmx")).json()
    )[("SDG131", "DJ-DJ", "F", "2026")]
    assert withheld == {
        "value": None,
        "OBS_STATUS": "A",
        "CONF_STATUS": "C",
        "TARGET_STATUS": None,
        "unit": "%",
    }


async def test_a_snapshot_in_each_format_keeps_its_labels(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    defined: None,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    snapshot = await _take(
        indicators,
        indicators_app,
        indicators_db,
        tokens,
        officer,
        {"period": "2026", "indicators": ["SDG131"]},
    )
    path = f"{BASE}/snapshots/{snapshot['id']}/values"
    # Renamed after the run: the snapshot keeps the name its values were computed under.
    renamed = await indicators.patch(
        f"{BASE}/definitions/SDG131",
        json={"name_fr": "Couverture (nouveau nom)"},
        headers={**officer, "If-Match": '"v1"'},
    )
    assert renamed.status_code == 200, renamed.text

    frozen = (await _get(indicators, path, officer)).json()
    assert frozen["labels"]["indicators"] == {"SDG131": "Couverture du PNSF"}
    assert frozen["labels"]["values"]["region"]["DJ-AS"] == "Ali Sabieh"

    # Each disaggregation in turn: by region (every sex), by sex, by legal status.
    observations = _sdmx_observations((await _get(indicators, path, officer, format="sdmx")).json())
    assert Decimal(str(observations[("SDG131", "DJ-AS", "_T", "_T", "2026")]["value"])) == percent(
        2, 100
    )
    assert Decimal(str(observations[("SDG131", "_T", "_T", "refugee", "2026")]["value"])) == (
        percent(2, 20)
    )
    view = (await _get(indicators, path, officer, format="dhis2", lang="en")).json()
    table = {(row["region"], row["sex"], row["legal_status"]): row for row in _dhis2_table(view)}
    assert Decimal(table[("_T", "_T", "refugee")]["value"]) == percent(2, 20)
    assert Decimal(table[("_T", "F", "_T")]["value"]) == percent(3, 170)
    assert view["metaData"]["items"]["refugee"]["name"] == "Refugees"
    assert (
        view["metaData"]["items"]["SDG131"]["name"]
        == "Population covered by at least one programme"
    )

    rows = list(
        csv.DictReader(
            io.StringIO(
                (await _get(indicators, f"{path}.csv", officer, lang="fr")).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert {row["indicator_name"] for row in rows} == {"Couverture du PNSF"}
    assert {row["legal_status_label"] for row in rows} == {"", "Nationaux", "Réfugiés"}
