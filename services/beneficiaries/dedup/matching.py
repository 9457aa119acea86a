"""Whether two person records are the same person, from 0 to 1, with the reasons.

Each piece of evidence a data manager would weigh adds or takes away log-odds (its
`weight`): the three name parts compared in their canonical spelling (same, a spelling or
typing variant, only similar, different), the birth dates (the same exact date; days off;
the year only, by the estimated flag or by 1 January; the year off by one; day and month
swapped), sex (the lookup only brings the same), where the two live, the identifiers a
family shares, and the other members of both households (a spouse or children with
matching names, the same mother; or two different mothers).

Two rules no sum overrides: two different given names are two people, and birth dates
too far apart to be one person's (exact dates more than `EXACT_REACH_DAYS` apart, a year
only more than `YEAR_REACH` years) are two people. Weak date evidence (a year off, day and
month swapped, a year only, by the flag or by 1 January, exact dates weeks apart) reaches
the threshold only with something else that agrees: the locality, a phone, the household.
Weights tuned with bench/dedup_quality.py (its own labelled test set, and the synthetic
registry's namesakes of common names).

The score is the logistic of the summed weights, placed so that `THRESHOLD_LOG_ODDS`
lands on the configured threshold (0.7).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler

from services.beneficiaries.names import canonical, fold, phonetic_key

# Name agreement: same (canonical spelling equal), close (one letter apart, or very alike),
# similar (two letters apart and alike), different (another name).
NAME_WEIGHTS = {
    "given_name": {"same": 3.0, "close": 2.6, "similar": 1.5, "different": -8.0},
    "father_name": {"same": 2.0, "close": 1.7, "similar": 0.8, "different": -3.0},
    "grandfather_name": {"same": 1.5, "close": 1.3, "similar": 0.6, "different": -1.5},
}
# A grandfather name left out on one side, the other two parts alike: often dropped.
DROPPED_GRANDFATHER = 1.0

BIRTH_WEIGHTS = {
    "same_date": 2.5,
    "days_apart": 1.5,  # exact dates one of day and month mistyped, or within NEAR_DAYS
    "weeks_apart": 0.4,  # exact dates within DAYS_APART otherwise: weak
    "same_year_estimated": 0.4,  # an estimated date (or both), the same year: weak
    "same_year_1_january": 0.4,  # 1 January without the estimated flag: likely year only
    "year_off_estimated": 0.0,  # an estimated date a year off
    "year_off": 0.4,  # exact dates, same day and month, the year one apart
    "day_month_swapped": 0.4,  # 09/12 and 12/09
    "same_year_other_day": -1.5,  # exact dates of the same year, nothing explains them
    "year_apart": -2.5,  # exact dates about a year apart, day and month different
    "years_off_estimated": -2.0,  # an estimated date two years off
}
DAYS_APART = 45
NEAR_DAYS = 3
EXACT_REACH_DAYS = 400
YEAR_REACH = 2

PLACE_WEIGHTS = {"same_locality": 1.0, "same_commune": 0.5, "same_region": 0.2}
SHARED_IDENTIFIER = 3.0  # a phone, a UNHCR case, a WFP SCOPE card held by both
DIFFERENT_IDENTIFIER = -5.0  # two different national ids (or other one-person ids)

HOUSEHOLD_WEIGHTS = {
    "spouse_matches": 2.5,
    "spouse_differs": -1.0,
    "child_matches": 1.2,  # each, up to MAX_CHILDREN
    "children_differ": -1.0,  # both have two or more children, none alike
    "mother_matches": 1.5,
    "mother_differs": -5.0,
    "member_matches": 0.8,  # another member alike, each, up to MAX_OTHERS
}
MAX_CHILDREN, MAX_OTHERS = 3, 3
# Whatever the household says, it adds at most this.
HOUSEHOLD_CAP = 5.0

THRESHOLD_LOG_ODDS = 7.0
# The configured threshold this scale was set for: its log-odds is THRESHOLD_LOG_ODDS.
CALIBRATED_THRESHOLD = 0.7
_OFFSET = THRESHOLD_LOG_ODDS - math.log(CALIBRATED_THRESHOLD / (1 - CALIBRATED_THRESHOLD))
# The score of a pair a rule rules out: shown, never flagged.
DISQUALIFIED = 0.5
_ROUNDING = 0.00005

PARTNERS = frozenset({"head", "spouse"})


@dataclass(frozen=True)
class Relative:
    """Another member of a person's household, as matching compares them."""

    given_name: str
    sex: str
    birth_year: int
    relationship: str | None = None


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
    commune_code: str | None = None
    unique_identifiers: frozenset[tuple[str, str]] = frozenset()
    relationship: str | None = None
    household: tuple[Relative, ...] = ()


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
    commune_code: str | None = None
    unique_identifiers: frozenset[tuple[str, str]] = frozenset()
    relationship: str | None = None
    household: tuple[Relative, ...] = ()


@dataclass
class Match:
    candidate: Candidate
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)


Evidence = dict[str, Any]


def _evidence(field_name: str, finding: str, weight: float, **detail: Any) -> Evidence:
    return {"field": field_name, "finding": finding, "weight": round(weight, 2), **detail}


# Names repeat a great deal: a batch of a few thousand people compares the same few
# thousand spellings over and over.
@lru_cache(maxsize=262144)
def name_agreement(first: str | None, second: str | None) -> str | None:
    """same, close, similar or different; None when either is missing."""
    if not first or not second:
        return None
    a, b = canonical(first), canonical(second)
    if a == b:
        return "same"
    distance = OSA.distance(a, b)  # a swap of two letters is one
    similarity = JaroWinkler.similarity(a, b)
    # one key mistyped, as written (Xaan / Xasan: two apart once long vowels are folded)
    typed = OSA.distance(fold(first).replace(" ", ""), fold(second).replace(" ", ""))
    if (distance == 1 and min(len(a), len(b)) >= 3) or typed == 1 or similarity >= 0.92:
        return "close"
    if distance <= 2 and similarity >= 0.8:
        return "similar"
    return "different"


def year_only(day: date, estimated: bool) -> str | None:
    """Whether a date stands for its year only: 'estimated' (flagged), '1_january' (the
    usual entry for an unknown date, unflagged), or None for an exact date."""
    if estimated:
        return "estimated"
    if day.month == 1 and day.day == 1:
        return "1_january"
    return None


def birth_evidence(
    first: date, first_estimated: bool, second: date, second_estimated: bool
) -> tuple[str, float | None]:
    """The finding and its weight; None for dates that cannot be one person's."""
    years = abs(first.year - second.year)
    vague = year_only(first, first_estimated) or year_only(second, second_estimated)
    if first == second and vague is None:
        return "same_date", BIRTH_WEIGHTS["same_date"]
    if vague is not None:
        if years == 0:
            finding = "same_year_estimated" if vague == "estimated" else "same_year_1_january"
            if vague != "estimated" and first == second:
                finding = "same_year_estimated"  # both 1 January: both year only
            return finding, BIRTH_WEIGHTS[finding]
        if years == 1:
            return "year_off_estimated", BIRTH_WEIGHTS["year_off_estimated"] - (
                0.5 if vague == "1_january" else 0.0
            )
        if years <= YEAR_REACH:
            return "years_off_estimated", BIRTH_WEIGHTS["years_off_estimated"]
        return "years_apart", None
    days = abs((first - second).days)
    # within weeks (across a new year too: 30 December / 2 January), or one of day and
    # month mistyped
    if days <= NEAR_DAYS or (
        years == 0 and (first.month == second.month or first.day == second.day)
    ):
        return "days_apart", BIRTH_WEIGHTS["days_apart"]
    if days <= DAYS_APART:
        return "weeks_apart", BIRTH_WEIGHTS["weeks_apart"]
    if years == 0 and (first.day, first.month) == (second.month, second.day):
        return "day_month_swapped", BIRTH_WEIGHTS["day_month_swapped"]
    if years == 1 and (first.month, first.day) == (second.month, second.day):
        return "year_off", BIRTH_WEIGHTS["year_off"]
    if years == 0:
        return "same_year_other_day", BIRTH_WEIGHTS["same_year_other_day"]
    if days <= EXACT_REACH_DAYS:
        return "year_apart", BIRTH_WEIGHTS["year_apart"]
    return "years_apart", None


def _name_agreements(
    draft: PersonDraft, given: str | None, father: str | None, grandfather: str | None
) -> tuple[str | None, str | None, str | None, bool]:
    """Each name part's agreement (None: missing on a side), and whether a grandfather
    name was left out on one side while the other two parts are alike."""
    agreements = (
        name_agreement(draft.given_name, given),
        name_agreement(draft.father_name, father),
        name_agreement(draft.grandfather_name, grandfather),
    )
    left_out = (
        agreements[2] is None
        and bool(draft.grandfather_name or grandfather)
        and agreements[0] in _ALIKE
        and agreements[1] in _ALIKE
    )
    return (*agreements, left_out)


_ALIKE = ("same", "close", "similar")
_PARTS = ("given_name", "father_name", "grandfather_name")


def names_and_birth_weight(
    draft: PersonDraft,
    given: str | None,
    father: str | None,
    grandfather: str | None,
    birth_date: date,
    estimated: bool,
) -> float | None:
    """The names' and birth dates' weight, as `score` sums it, without its reasons; None
    when a rule rules the pair out (two given names, birth dates too far apart). What a
    candidate is first judged by, many times per person: as cheap as it can be."""
    if name_agreement(draft.given_name, given) == "different":
        return None
    _, birth = birth_evidence(draft.birth_date, draft.birth_date_estimated, birth_date, estimated)
    if birth is None:
        return None
    *agreements, left_out = _name_agreements(draft, given, father, grandfather)
    total = birth + (DROPPED_GRANDFATHER if left_out else 0.0)
    for part, agreement in zip(_PARTS, agreements, strict=True):
        if agreement is not None:
            total += NAME_WEIGHTS[part][agreement]
    return total


def _names_and_birth(
    draft: PersonDraft,
    given: str | None,
    father: str | None,
    grandfather: str | None,
    birth_date: date,
    estimated: bool,
) -> tuple[float, bool, list[Evidence]]:
    """The names' and birth dates' weight, whether a rule rules the pair out, the
    evidence."""
    evidence: list[Evidence] = []
    total = 0.0
    *agreements, left_out = _name_agreements(draft, given, father, grandfather)
    for part, agreement in zip(_PARTS, agreements, strict=True):
        if agreement is None:
            continue
        weight = NAME_WEIGHTS[part][agreement]
        total += weight
        evidence.append(_evidence(part, agreement, weight))
    ruled_out = agreements[0] == "different"
    if left_out:
        total += DROPPED_GRANDFATHER
        evidence.append(_evidence("grandfather_name", "left_out", DROPPED_GRANDFATHER))
    finding, birth = birth_evidence(
        draft.birth_date, draft.birth_date_estimated, birth_date, estimated
    )
    if birth is None:
        ruled_out = True
        evidence.append(_evidence("birth_date", finding, 0.0))
    else:
        total += birth
        evidence.append(_evidence("birth_date", finding, birth))
    return total, ruled_out, evidence


def _relative_alike(first: Relative, second: Relative) -> bool:
    return (
        first.sex == second.sex
        and abs(first.birth_year - second.birth_year) <= 2
        and name_agreement(first.given_name, second.given_name) in _ALIKE
    )


def _roles(relationship: str | None, household: Sequence[Relative]) -> dict[str, list[Relative]]:
    """A person's spouse, children and mother among the other members, by their
    relationships to the head (the person's own relationship says which is which)."""
    roles: dict[str, list[Relative]] = {"spouse": [], "children": [], "mother": [], "others": []}
    for other in household:
        role = "others"
        if relationship == "head":
            role = {"spouse": "spouse", "child": "children"}.get(other.relationship or "", role)
            if other.relationship == "parent" and other.sex == "F":
                role = "mother"
        elif relationship == "spouse":
            role = {"head": "spouse", "child": "children"}.get(other.relationship or "", role)
        elif relationship == "child" and other.relationship in PARTNERS and other.sex == "F":
            role = "mother"
        roles[role].append(other)
    return roles


def _clearly_different(first: Sequence[Relative], second: Sequence[Relative]) -> bool:
    """No one of `first` could be anyone of `second`: other names (not only spelt far
    apart: their phonetic keys differ too), or ages far apart. What counter-evidence needs,
    more than a failed match (Meriem / Mariam do not match, nor do they differ)."""
    return not any(
        (
            name_agreement(one.given_name, other.given_name) != "different"
            or phonetic_key(one.given_name) == phonetic_key(other.given_name)
        )
        and abs(one.birth_year - other.birth_year) <= 5
        for one in first
        for other in second
    )


def _matched(first: Sequence[Relative], second: Sequence[Relative]) -> int:
    """How many of `first` have someone alike in `second`, each used once."""
    left = list(second)
    count = 0
    for person in first:
        for index, other in enumerate(left):
            if _relative_alike(person, other):
                count += 1
                del left[index]
                break
    return count


def household_evidence(draft: PersonDraft, candidate: Candidate) -> tuple[float, list[Evidence]]:
    """What the other members of both households say."""
    if not draft.household or not candidate.household:
        return 0.0, []
    mine = _roles(draft.relationship, draft.household)
    theirs = _roles(candidate.relationship, candidate.household)
    evidence: list[Evidence] = []
    weights = HOUSEHOLD_WEIGHTS
    if mine["spouse"] and theirs["spouse"]:
        if _matched(mine["spouse"], theirs["spouse"]):
            evidence.append(_evidence("household", "spouse_matches", weights["spouse_matches"]))
        elif _clearly_different(mine["spouse"], theirs["spouse"]):
            evidence.append(_evidence("household", "spouse_differs", weights["spouse_differs"]))
    if mine["children"] and theirs["children"]:
        children = _matched(mine["children"], theirs["children"])
        if children:
            weight = weights["child_matches"] * min(children, MAX_CHILDREN)
            evidence.append(_evidence("household", "children_match", weight, count=children))
        elif (
            len(mine["children"]) >= 2
            and len(theirs["children"]) >= 2
            and _clearly_different(mine["children"], theirs["children"])
        ):
            evidence.append(_evidence("household", "children_differ", weights["children_differ"]))
    if mine["mother"] and theirs["mother"]:
        if _matched(mine["mother"], theirs["mother"]):
            evidence.append(_evidence("household", "mother_matches", weights["mother_matches"]))
        elif _clearly_different(mine["mother"], theirs["mother"]):
            evidence.append(_evidence("household", "mother_differs", weights["mother_differs"]))
    # Members whose role cannot be told (a draft checked without relationships, other
    # relatives) count when alike, whatever their role.
    rest_mine = mine["others"] if draft.relationship else list(draft.household)
    rest_theirs = (
        [*theirs["others"], *theirs["children"], *theirs["spouse"], *theirs["mother"]]
        if not draft.relationship
        else theirs["others"]
    )
    others = _matched(rest_mine, rest_theirs)
    if others:
        weight = weights["member_matches"] * min(others, MAX_OTHERS)
        evidence.append(_evidence("household", "members_match", weight, count=others))
    total = sum(item["weight"] for item in evidence)
    return min(total, HOUSEHOLD_CAP), evidence


def _place_and_identifiers(
    draft: PersonDraft, candidate: Candidate
) -> tuple[float, list[Evidence]]:
    evidence: list[Evidence] = []
    if draft.locality_code and draft.locality_code == candidate.locality_code:
        evidence.append(_evidence("locality", "same_locality", PLACE_WEIGHTS["same_locality"]))
    elif draft.commune_code and draft.commune_code == candidate.commune_code:
        evidence.append(_evidence("locality", "same_commune", PLACE_WEIGHTS["same_commune"]))
    elif draft.region_code and draft.region_code == candidate.region_code:
        evidence.append(_evidence("locality", "same_region", PLACE_WEIGHTS["same_region"]))
    shared = draft.shared_identifiers & candidate.shared_identifiers
    if shared:
        kinds = sorted({kind for kind, _ in shared})
        evidence.append(_evidence("identifiers", "shared", SHARED_IDENTIFIER, types=kinds))
    theirs = dict(candidate.unique_identifiers)
    differing = sorted(
        {kind for kind, value in draft.unique_identifiers if theirs.get(kind, value) != value}
    )
    if differing:
        evidence.append(
            _evidence("identifiers", "different", DIFFERENT_IDENTIFIER, types=differing)
        )
    return sum(item["weight"] for item in evidence), evidence


def to_score(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-(log_odds - _OFFSET)))


_SUMMARY = {
    "same": "same",
    "close": "spelling variant",
    "similar": "similar",
    "different": "different",
    "left_out": "left out on one side",
}


def summary(evidence: Sequence[Evidence]) -> str:
    """One line a data manager reads first, no names in it."""
    parts = []
    for item in evidence:
        finding = item["finding"]
        if item["field"].endswith("_name"):
            parts.append(f"{item['field'].replace('_', ' ')} {_SUMMARY.get(finding, finding)}")
        elif "types" in item:
            parts.append(f"{finding} {', '.join(item['types'])}")
        else:
            text = finding.replace("_", " ")
            parts.append(f"{text} ({item['count']})" if "count" in item else text)
    return "; ".join(parts)


def score(draft: PersonDraft, candidate: Candidate) -> Match:
    """The pair's score and its reasons: `{"log_odds", "summary", "evidence": [...]}`,
    each piece of evidence `{"field", "finding", "weight", ...}` (see the module)."""
    total, ruled_out, evidence = _names_and_birth(
        draft,
        candidate.given_name,
        candidate.father_name,
        candidate.grandfather_name,
        candidate.birth_date,
        candidate.birth_date_estimated,
    )
    place, found = _place_and_identifiers(draft, candidate)
    household, members = household_evidence(draft, candidate)
    total += place + household
    evidence += found + members
    value = to_score(total)
    if ruled_out:
        value = min(value, DISQUALIFIED)
    reasons = {
        "log_odds": round(total, 2),
        "ruled_out": ruled_out,
        "summary": summary(evidence),
        "evidence": evidence,
    }
    return Match(candidate, round(value, 4), reasons)


def household_reach(draft: PersonDraft) -> float:
    """The most `household_evidence` can add for `draft`, whoever the candidate: each
    kind of agreement needs someone of that role in the draft's own household (a spouse,
    children, a mother, others), and counts no more of them than it has."""
    if not draft.household:
        return 0.0
    weights = HOUSEHOLD_WEIGHTS
    mine = _roles(draft.relationship, draft.household)
    if not draft.relationship:
        return min(HOUSEHOLD_CAP, weights["member_matches"] * min(len(draft.household), MAX_OTHERS))
    reach = (
        (weights["spouse_matches"] if mine["spouse"] else 0.0)
        + weights["child_matches"] * min(len(mine["children"]), MAX_CHILDREN)
        + (weights["mother_matches"] if mine["mother"] else 0.0)
        + weights["member_matches"] * min(len(mine["others"]), MAX_OTHERS)
    )
    return min(HOUSEHOLD_CAP, reach)


NO_LIMIT = 1_000_000


def birth_reach(threshold: float) -> tuple[int, int]:
    """How far apart two birth dates can be for a pair to still reach `threshold`: (days,
    for exact dates; years, when either date is a year only). Farther apart, the date rule
    rules them out; pairs beyond are not read."""
    if threshold <= DISQUALIFIED + _ROUNDING:
        return NO_LIMIT, NO_LIMIT
    return EXACT_REACH_DAYS, YEAR_REACH


def _log_odds_for(threshold: float) -> float:
    """The least summed weight whose score rounds to `threshold` or more."""
    if threshold >= 1.0:
        return math.inf
    # the score is rounded to 4 places: a weight a hair below still makes it
    target = max(threshold - _ROUNDING, 1e-12)
    return _OFFSET + math.log(target / (1 - target)) - 1e-9


def within_reach(
    draft: PersonDraft,
    threshold: float,
    candidates: Iterable[Sequence[Any]],
    sharing: Container[Any] | None = None,
) -> list[Any]:
    """The ids of the `candidates` whose `score` against `draft` could reach `threshold`,
    known from their names and birth dates alone, before their household and identifiers
    are read (a big batch has hundreds of thousands of candidates, most far off): the same
    name and birth weights as `score`, with every bonus the draft could earn (the place,
    a shared phone or case, what its own household could match). Each candidate is (id,
    given name, father name, grandfather name, birth date, birth date estimated, ...);
    `sharing`, when known, holds the ids of those who share an identifier with the draft
    (the others cannot earn that bonus)."""
    place, household = PLACE_WEIGHTS["same_locality"], household_reach(draft)
    shared = SHARED_IDENTIFIER if draft.shared_identifiers else 0.0
    if threshold <= DISQUALIFIED + _ROUNDING:
        # so low a threshold that a pair a rule rules out may reach it: weighed in full
        extra = place + household + shared
        return [c[0] for c in candidates if _reaches_in_full(draft, threshold, extra, c[1:6])]
    needed = _log_odds_for(threshold) - place - household
    kept = []
    for candidate_id, given, father, grandfather, birth_date, estimated, *_ in candidates:
        weight = names_and_birth_weight(draft, given, father, grandfather, birth_date, estimated)
        if weight is None:
            continue
        if sharing is None or candidate_id in sharing:
            weight += shared
        if weight >= needed:
            kept.append(candidate_id)
    return kept


def could_reach(draft: PersonDraft, candidate: Candidate, threshold: float) -> bool:
    """Whether `score` could reach `threshold`, known before the households are compared
    (the costly part): names, birth dates, place and identifiers as `score` weighs them,
    and all that the draft's household could add."""
    weight = names_and_birth_weight(
        draft,
        candidate.given_name,
        candidate.father_name,
        candidate.grandfather_name,
        candidate.birth_date,
        candidate.birth_date_estimated,
    )
    if weight is None:
        return threshold <= DISQUALIFIED + _ROUNDING
    place, _ = _place_and_identifiers(draft, candidate)
    return weight + place + household_reach(draft) >= _log_odds_for(threshold)


def _reaches_in_full(
    draft: PersonDraft, threshold: float, extra: float, candidate: Sequence[Any]
) -> bool:
    total, ruled_out, _ = _names_and_birth(draft, *candidate)
    reach = to_score(total + extra)
    if ruled_out:
        reach = min(reach, DISQUALIFIED)
    return round(reach, 4) >= threshold
