"""Choosing a results format: `format=` (json, csv, dhis2, sdmx), JSON when left out. A
query parameter rather than content negotiation: a link in a browser, a spreadsheet or a
partner's script names its format without setting headers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Response

from services.indicators.values.formats import dhis2, sdmx, table
from services.indicators.values.formats.labels import Labels
from services.indicators.values.formats.language import Language
from services.indicators.values.formats.shape import dimensions_of, indicators_of
from services.indicators.values.schemas import IndicatorValue, ResultLabels

ResultsFormat = Literal["json", "csv", "dhis2", "sdmx"]
SDMX_MEDIA_TYPE = "application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8"
FORMAT_HELP = (
    "json (default): the values as rows; csv: a line per value, for a spreadsheet; dhis2: "
    "a DHIS2-style analytics view (headers, rows, metaData); sdmx: an SDMX-JSON 2.0 data "
    "message. Labels in the language of `lang`, else of `Accept-Language`, else French."
)
FormatQuery = Annotated[ResultsFormat, Query(description=FORMAT_HELP)]

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {},
            "text/csv": {},
            SDMX_MEDIA_TYPE.split(";")[0]: {},
        },
        "description": "The values in the format asked for.",
    }
}


def json_labels(values: Sequence[IndicatorValue], labels: Labels, lang: Language) -> ResultLabels:
    """The names the JSON rows' codes stand for, in `lang`: each indicator's, each
    dimension's and each value's found in the cells."""
    dimensions = dimensions_of(values)

    def codes(name: str) -> list[str]:
        return sorted({code for value in values if (code := value.cell.get(name)) is not None})

    return ResultLabels(
        lang=lang,
        indicators={code: labels.indicator(code, lang) for code in indicators_of(values)},
        dimensions={name: labels.dimension(name, lang) for name in dimensions},
        values={
            name: {code: labels.value(name, code, lang) for code in codes(name)}
            for name in dimensions
        },
    )


def rendered(
    chosen: ResultsFormat,
    values: Sequence[IndicatorValue],
    labels: Labels,
    lang: Language,
    *,
    link: str,
    filename: str,
) -> Response:
    """The values in a format other than JSON rows."""
    headers: dict[str, str] = {"Content-Language": lang}
    if chosen == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return Response(
            table.values_csv(values, labels, lang), media_type=table.MEDIA_TYPE, headers=headers
        )
    if chosen == "dhis2":
        body = dhis2.analytics(values, labels, lang)
        media_type = "application/json"
    else:
        body = sdmx.data_message(values, labels, lang, datetime.now(UTC), link)
        media_type = SDMX_MEDIA_TYPE
    return Response(
        json.dumps(body, ensure_ascii=False).encode(), media_type=media_type, headers=headers
    )
