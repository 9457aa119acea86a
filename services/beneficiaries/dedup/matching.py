"""How alike two person records are, from 0 to 1, with the reasons.

Names weigh most (given name most of all), compared in their canonical spelling so that
Maxamed and Mohamed agree while Hassan and Hussein only half agree; the birth date follows,
lenient where a date is estimated; a shared locality or phone adds a little.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import JaroWinkler

from services.beneficiaries.names import canonical

NAME_WEIGHTS = {"given_name": 0.45, "father_name": 0.35, "grandfather_name": 0.20}
NAME_SHARE, BIRTH_SHARE = 0.5, 0.5
# A part as different as this (Mohamed / Ahmed: 0.71, Hassan / Hussein: 0.73) is another
# name, not a spelling: such a pair is not a duplicate, whatever the rest says.
DIFFERENT_NAME = 0.8
# Below this, a part's similarity counts for nothing; above, it climbs to 1.
SIMILARITY_FLOOR = 0.6
# The score of a pair a differing name part disqualifies: shown, never flagged.
DISQUALIFIED = 0.5


@dataclass(frozen=True)
class PersonDraft:
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    sex: str
    birth_date: date
    birth_date_estimated: bool = False
    locality_code: str | None = None
    region_code: str | None = None
    shared_identifiers: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Candidate:
    individual_id: uuid.UUID
    household_id: uuid.UUID | None
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    sex: str
    birth_date: date
    birth_date_estimated: bool
    locality_code: str | None
    region_code: str | None
    registry_number: str | None = None
    shared_identifiers: frozenset[tuple[str, str]] = frozenset()


@dataclass
class Match:
    candidate: Candidate
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)


# Names repeat a great deal: a batch of a few thousand people compares the same few
# thousand spellings over and over.
@lru_cache(maxsize=262144)
def name_similarity(first: str | None, second: str | None) -> float | None:
    if not first or not second:
        return None
    return JaroWinkler.similarity(canonical(first), canonical(second))


def birth_similarity(first: date, second: date, estimated: bool) -> float:
    """1 for the same date; an estimated date (often 1 July of a guessed year) is only as
    good as its year, so it is compared by year; exact dates a year or more apart are two
    people."""
    days = abs((first - second).days)
    years = abs(first.year - second.year)
    if days == 0:
        return 1.0
    if days <= 45 or (estimated and years == 0):
        return 0.85
    if estimated and years == 1:
        return 0.6
    if days <= 366:
        return 0.3
    return 0.0


def _names_and_birth(
    draft: PersonDraft,
    given: str | None,
    father: str | None,
    grandfather: str | None,
    birth_date: date,
    estimated: bool,
) -> tuple[float, bool, dict[str, Any]]:
    """The score's name and birth-date part, whether a name part differs, and the reasons."""
    reasons: dict[str, Any] = {}
    weighted = weights = 0.0
    different = False
    for (part, weight), other in zip(
        NAME_WEIGHTS.items(), (given, father, grandfather), strict=True
    ):
        similarity = name_similarity(getattr(draft, part), other)
        reasons[part] = None if similarity is None else round(similarity, 3)
        if similarity is None:
            continue
        different = different or similarity < DIFFERENT_NAME
        weighted += weight * max(0.0, (similarity - SIMILARITY_FLOOR) / (1 - SIMILARITY_FLOOR))
        weights += weight
    names = weighted / weights if weights else 0.0
    birth = birth_similarity(draft.birth_date, birth_date, draft.birth_date_estimated or estimated)
    reasons["birth_date"] = birth
    return NAME_SHARE * names + BIRTH_SHARE * birth, different, reasons


# What `score` can add to the name and birth-date part: same locality (more than same
# region) and a shared identifier; and what its rounding to 4 decimals can gain.
_LOCALITY_BONUS, _REGION_BONUS, _IDENTIFIER_BONUS, _ROUNDING = 0.03, 0.01, 0.05, 0.00005


NO_LIMIT = 1_000_000


def birth_reach(threshold: float) -> tuple[int, int]:
    """How far apart two birth dates can be for a pair to still reach `threshold`, with
    alike names and every bonus: (days, for exact dates; years, when either date is
    estimated). The steps are `birth_similarity`'s; pairs farther apart are not read."""
    needed = (
        threshold - NAME_SHARE - _LOCALITY_BONUS - _IDENTIFIER_BONUS - _ROUNDING
    ) / BIRTH_SHARE
    if needed <= 0.0:
        return NO_LIMIT, NO_LIMIT
    if needed <= 0.3:
        return 366, 1
    if needed <= 0.6:
        return 45, 1
    if needed <= 0.85:
        return 45, 0
    return 0, -1


def within_reach(
    draft: PersonDraft, threshold: float, candidates: Iterable[Sequence[Any]]
) -> list[Any]:
    """The ids of the `candidates` whose `score` against `draft` could reach `threshold`,
    known from their names and birth dates alone, before their household and identifiers
    are read (a big batch has hundreds of thousands of candidates, most far off): the same
    name and birth part as `score`, with every bonus the draft could earn. Each candidate
    is (id, given name, father name, grandfather name, birth date, birth date estimated)."""
    bonus = _LOCALITY_BONUS + (_IDENTIFIER_BONUS if draft.shared_identifiers else 0.0) + _ROUNDING
    # When a differing name part alone rules a pair out, most candidates (two parts alike,
    # the third another name) are left out at the first such part, cheaply.
    ruled_out = threshold > DISQUALIFIED + _ROUNDING
    low = DIFFERENT_NAME if ruled_out else -1.0
    my_given, my_father, my_grandfather = (
        draft.given_name,
        draft.father_name,
        draft.grandfather_name,
    )
    kept = []
    for candidate_id, given, father, grandfather, birth_date, estimated in candidates:
        similarity = name_similarity(my_given, given)
        if similarity is not None and similarity < low:
            continue
        similarity = name_similarity(my_father, father)
        if similarity is not None and similarity < low:
            continue
        similarity = name_similarity(my_grandfather, grandfather)
        if similarity is not None and similarity < low:
            continue
        total, different, _ = _names_and_birth(
            draft, given, father, grandfather, birth_date, estimated
        )
        reach = min(total + bonus, DISQUALIFIED + _ROUNDING) if different else total + bonus
        if reach >= threshold:
            kept.append(candidate_id)
    return kept


def score(draft: PersonDraft, candidate: Candidate) -> Match:
    """Tuned on the synthetic registry (bench/dedup_quality.py): with these settings about
    98 % of planted spelling-variant duplicates score at least 0.7, and about 3 % of
    people have a look-alike that does."""
    total, different, reasons = _names_and_birth(
        draft,
        candidate.given_name,
        candidate.father_name,
        candidate.grandfather_name,
        candidate.birth_date,
        candidate.birth_date_estimated,
    )
    if draft.locality_code and draft.locality_code == candidate.locality_code:
        reasons["same_locality"] = True
        total += _LOCALITY_BONUS
    elif draft.region_code and draft.region_code == candidate.region_code:
        reasons["same_region"] = True
        total += _REGION_BONUS
    shared = draft.shared_identifiers & candidate.shared_identifiers
    if shared:
        reasons["shared_identifiers"] = sorted(kind for kind, _ in shared)
        total += _IDENTIFIER_BONUS
    if different:
        reasons["different_name"] = True
        total = min(total, DISQUALIFIED)
    return Match(candidate, round(min(total, 1.0), 4), reasons)
