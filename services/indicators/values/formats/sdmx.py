"""SDMX-JSON 2.0 data messages of a series: `meta` (id, prepared, sender, content
language), `data.structures` (one structure: the series dimensions `INDICATOR` and one
per disaggregation, the observation dimension `TIME_PERIOD`, the measure `OBS_VALUE`, the
attributes) and `data.dataSets` (one, its `series` keyed by the positions of their
dimension values, `0:2:1`, each holding its observations). An observation is
`[OBS_VALUE, OBS_STATUS, CONF_STATUS, TARGET_STATUS]`: the value (a number, null when
there is none), then the position of each attribute's value (null when it has none).
OBS_STATUS is `A` (normal) or `M` (missing: a zero denominator...), CONF_STATUS `F`
(free) or `C` (confidential: counted from fewer people than the small-cell threshold; its
value withheld from analysts and partners), TARGET_STATUS the status against the targets;
UNIT_MEASURE is a series attribute. A cell not broken down by a dimension (the indicator
overall) has the code `_T` (total) there, one whose value is not recorded `_U`."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from services.indicators.status import STATUSES
from services.indicators.values.formats.labels import Labels, code_in
from services.indicators.values.formats.language import Language
from services.indicators.values.formats.shape import (
    codes_of,
    dimensions_of,
    indicators_of,
    period_name,
)
from services.indicators.values.periods import parse_period
from services.indicators.values.schemas import IndicatorValue

SCHEMA = (
    "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/"
    "schemas/2.0.0/sdmx-json-data-schema.json"
)
_NAMES: dict[str, tuple[str, str]] = {
    "INDICATOR": ("Indicateur", "Indicator"),
    "TIME_PERIOD": ("Période", "Time period"),
    "OBS_VALUE": ("Valeur", "Observation value"),
    "UNIT_MEASURE": ("Unité de mesure", "Unit of measure"),
    "OBS_STATUS": ("Statut de l'observation", "Observation status"),
    "CONF_STATUS": ("Statut de confidentialité", "Confidentiality status"),
    "TARGET_STATUS": ("Situation par rapport à la cible", "Status against the target"),
    "A": ("Valeur normale", "Normal value"),
    "M": ("Valeur manquante", "Missing value"),
    "F": ("Libre", "Free"),
    "C": ("Confidentiel", "Confidential"),
    "achieved": ("Atteinte", "Achieved"),
    "on_track": ("En bonne voie", "On track"),
    "off_track": ("En retard", "Off track"),
    "no_target": ("Pas de cible", "No target"),
}
_SENDER = {"fr": "INDS - suivi et évaluation", "en": "INDS - monitoring and evaluation"}
_TITLE = {"fr": "Indicateurs INDS", "en": "INDS indicators"}
_OBS_STATUS = ("A", "M")
_CONF_STATUS = ("F", "C")
_INVALID_ID = re.compile(r"[^A-Za-z0-9_@$-]")


def sdmx_id(code: str) -> str:
    """An SDMX identifier for a code (`65+` -> `65_PLUS`, `%` -> `PT`)."""
    if code == "%":
        return "PT"
    return _INVALID_ID.sub("_", code.replace("+", "_PLUS")) or "_Z"


def sdmx_period(text: str) -> str:
    """SDMX's reporting period: 2026, 2026-Q3, 2026-07."""
    return text.replace("Q", "-Q")


def _named(code: str, lang: Language) -> dict[str, Any]:
    fr, en = _NAMES[code]
    return {"id": code, "name": fr if lang == "fr" else en, "names": {"fr": fr, "en": en}}


def _localised(text_of: Callable[[Language], str], lang: Language) -> dict[str, Any]:
    """`name` in `lang`, `names` in both languages."""
    names = {language: text_of(language) for language in ("fr", "en")}
    return {"name": names[lang], "names": names}


@dataclass(frozen=True)
class _Positions:
    """The values of each series dimension, of the time dimension and of the unit, in
    the order the structure lists them (a key is made of positions in these lists)."""

    indicators: list[str]
    dimensions: list[str]
    codes: dict[str, list[str]]
    periods: list[str]
    units: list[str]

    @classmethod
    def of(cls, values: Sequence[IndicatorValue]) -> _Positions:
        dimensions = dimensions_of(values)
        return cls(
            indicators_of(values),
            dimensions,
            {name: codes_of(values, name) for name in dimensions},
            list(dict.fromkeys(value.period for value in values)),
            list(dict.fromkeys(value.unit for value in values)),
        )

    def series_key(self, value: IndicatorValue) -> str:
        positions = [self.indicators.index(value.indicator)]
        positions += [self.codes[name].index(code_in(value.cell, name)) for name in self.dimensions]
        return ":".join(str(position) for position in positions)


def _series_dimensions(at: _Positions, labels: Labels, lang: Language) -> list[dict[str, Any]]:
    indicator = {
        **_named("INDICATOR", lang),
        "keyPosition": 0,
        "values": [
            {"id": sdmx_id(code), **_localised(partial(labels.indicator, code), lang)}
            for code in at.indicators
        ],
    }
    return [
        indicator,
        *(
            {
                "id": sdmx_id(name.upper()),
                **_localised(partial(labels.dimension, name), lang),
                "keyPosition": position,
                "values": [
                    {
                        "id": sdmx_id(code),
                        **_localised(partial(labels.value, name, code), lang),
                    }
                    for code in at.codes[name]
                ],
            }
            for position, name in enumerate(at.dimensions, start=1)
        ),
    ]


def _time_dimension(at: _Positions, lang: Language) -> dict[str, Any]:
    def period(text: str) -> dict[str, Any]:
        parsed = parse_period(text)
        return {
            "id": sdmx_period(text),
            **_localised(partial(period_name, text), lang),
            "start": f"{parsed.start.isoformat()}T00:00:00Z",
            "end": f"{parsed.end.isoformat()}T23:59:59Z",
        }

    return {
        **_named("TIME_PERIOD", lang),
        "keyPosition": len(at.dimensions) + 1,
        "roles": ["TIME_PERIOD"],
        "values": [period(text) for text in at.periods],
    }


_OBSERVATION_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "OBS_STATUS": _OBS_STATUS,
    "CONF_STATUS": _CONF_STATUS,
    "TARGET_STATUS": STATUSES,
}


def _attributes(at: _Positions, lang: Language) -> dict[str, Any]:
    return {
        "dataSet": [],
        "series": [
            {
                **_named("UNIT_MEASURE", lang),
                "roles": ["UNIT_MEASURE"],
                "relationship": {"dimensions": ["INDICATOR"]},
                "values": [{"id": sdmx_id(unit), "name": unit} for unit in at.units],
            }
        ],
        "observation": [
            {
                **_named(attribute, lang),
                "relationship": {"observation": {}},
                "values": [_named(code, lang) for code in codes],
            }
            for attribute, codes in _OBSERVATION_ATTRIBUTES.items()
        ],
    }


def _observation(value: IndicatorValue) -> list[Any]:
    """[OBS_VALUE, then the position of each observation attribute's value]."""
    missing = value.value is None and not value.suppressed
    return [
        None if value.value is None else float(value.value),
        _OBS_STATUS.index("M" if missing else "A"),
        _CONF_STATUS.index("C" if value.flagged else "F"),
        None if value.status is None else STATUSES.index(value.status),
    ]


def data_message(
    values: Sequence[IndicatorValue],
    labels: Labels,
    lang: Language,
    prepared: datetime,
    link: str,
) -> dict[str, Any]:
    at = _Positions.of(values)
    series: dict[str, dict[str, Any]] = {}
    for value in values:
        entry = series.setdefault(
            at.series_key(value),
            {"attributes": [at.units.index(value.unit)], "observations": {}},
        )
        entry["observations"][str(at.periods.index(value.period))] = _observation(value)
    structure = {
        **_localised(_TITLE.__getitem__, lang),
        "dimensions": {
            "dataSet": [],
            "series": _series_dimensions(at, labels, lang),
            "observation": [_time_dimension(at, lang)],
        },
        "measures": {"observation": [_named("OBS_VALUE", lang)]},
        "attributes": _attributes(at, lang),
        "dataSets": [0],
    }
    return {
        "meta": {
            "schema": SCHEMA,
            "id": f"IND-{uuid.uuid4().hex}",
            "test": False,
            "prepared": prepared.isoformat(),
            "contentLanguages": [lang],
            "sender": {"id": "INDS", **_localised(_SENDER.__getitem__, lang)},
        },
        "data": {
            "structures": [structure],
            "dataSets": [
                {
                    "structure": 0,
                    "action": "Information",
                    "links": [{"rel": "self", "href": link}],
                    "series": series,
                }
            ],
        },
    }
