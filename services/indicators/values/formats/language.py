"""The language of labels: `lang=` when given, else the first of `Accept-Language` this
service speaks, else French (the administration's working language)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import Depends, Header, Query

Language = Literal["fr", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "fr"


def preferred(accept_language: str | None) -> Language:
    """The best of `fr` and `en` by the header's q-values (`en-GB;q=0.8, fr;q=0.9`)."""
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))  # type: ignore[arg-type]
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def _chosen(
    lang: Annotated[
        Language | None,
        Query(description="Labels in French or English; else by `Accept-Language`, else fr."),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> Language:
    return lang or preferred(accept_language)


ChosenLanguage = Annotated[Language, Depends(_chosen)]
