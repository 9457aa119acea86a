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
from collections.abc import Sequence
from datetime import datetime
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
_SENDER = ("INDS - suivi et évaluation", "INDS - monitoring and evaluation")
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


def _named(code: str, lang: Language, names: tuple[str, str] | None = None) -> dict[str, Any]:
    fr, en = names or _NAMES[code]
    return {"id": code, "name": fr if lang == "fr" else en, "names": {"fr": fr, "en": en}}


def data_message(
    values: Sequence[IndicatorValue],
    labels: Labels,
    lang: Language,
    prepared: datetime,
    link: str,
) -> dict[str, Any]:
    dimensions = dimensions_of(values)
    indicators = indicators_of(values)
    codes = {name: codes_of(values, name) for name in dimensions}
    periods = list(dict.fromkeys(value.period for value in values))
    units = list(dict.fromkeys(value.unit for value in values))

    def both(text_of: Any) -> dict[str, Any]:
        fr, en = text_of("fr"), text_of("en")
        return {"name": fr if lang == "fr" else en, "names": {"fr": fr, "en": en}}

    series_dimensions = [
        {
            **_named("INDICATOR", lang),
            "keyPosition": 0,
            "values": [
                {"id": sdmx_id(code), **both(lambda la, c=code: labels.indicator(c, la))}
                for code in indicators
            ],
        },
        *(
            {
                "id": sdmx_id(name.upper()),
                **both(lambda la, n=name: labels.dimension(n, la)),
                "keyPosition": position,
                "values": [
                    {"id": sdmx_id(code), **both(lambda la, n=name, c=code: labels.value(n, c, la))}
                    for code in codes[name]
                ],
            }
            for position, name in enumerate(dimensions, start=1)
        ),
    ]
    time_dimension = {
        **_named("TIME_PERIOD", lang),
        "keyPosition": len(series_dimensions),
        "roles": ["TIME_PERIOD"],
        "values": [
            {
                "id": sdmx_period(text),
                **both(lambda la, t=text: period_name(t, la)),
                "start": f"{parse_period(text).start.isoformat()}T00:00:00Z",
                "end": f"{parse_period(text).end.isoformat()}T23:59:59Z",
            }
            for text in periods
        ],
    }
    attribute_codes = {
        "OBS_STATUS": _OBS_STATUS,
        "CONF_STATUS": _CONF_STATUS,
        "TARGET_STATUS": STATUSES,
    }
    structure = {
        **both(lambda la: "Indicateurs INDS" if la == "fr" else "INDS indicators"),
        "dimensions": {
            "dataSet": [],
            "series": series_dimensions,
            "observation": [time_dimension],
        },
        "measures": {"observation": [_named("OBS_VALUE", lang)]},
        "attributes": {
            "dataSet": [],
            "series": [
                {
                    **_named("UNIT_MEASURE", lang),
                    "roles": ["UNIT_MEASURE"],
                    "relationship": {"dimensions": ["INDICATOR"]},
                    "values": [{"id": sdmx_id(unit), "name": unit} for unit in units],
                }
            ],
            "observation": [
                {
                    **_named(attribute, lang),
                    "relationship": {"observation": {}},
                    "values": [_named(code, lang) for code in attribute_codes[attribute]],
                }
                for attribute in attribute_codes
            ],
        },
        "dataSets": [0],
    }
    series: dict[str, dict[str, Any]] = {}
    for value in values:
        key = ":".join(
            [
                str(indicators.index(value.indicator)),
                *(str(codes[name].index(code_in(value.cell, name))) for name in dimensions),
            ]
        )
        entry = series.setdefault(
            key, {"attributes": [units.index(value.unit)], "observations": {}}
        )
        entry["observations"][str(periods.index(value.period))] = [
            None if value.value is None else float(value.value),
            _OBS_STATUS.index("M" if value.value is None and not value.suppressed else "A"),
            _CONF_STATUS.index("C" if value.flagged else "F"),
            None if value.status is None else STATUSES.index(value.status),
        ]
    return {
        "meta": {
            "schema": SCHEMA,
            "id": f"IND-{uuid.uuid4().hex}",
            "test": False,
            "prepared": prepared.isoformat(),
            "contentLanguages": [lang],
            "sender": {
                "id": "INDS",
                **both(lambda la: _SENDER[0] if la == "fr" else _SENDER[1]),
            },
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
