"""One batch of a partner's list matched against the registry with the registry's own
duplicate check (dedup/): per row, its identifiers first (a UNHCR individual number names
one person; a phone or a UNHCR case, a family), then the duplicate candidates of its names,
birth date, sex and locality, scored as a data manager's duplicates are.

Only people the caller may see are considered: for a partner, those of its agreement's
households (regions, programmes, legal statuses, consent to partner sharing). Someone
outside is never named, counted or hinted at: a row whose only match is outside is "not
found", the same answer as a row that matches no one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.dedup import repository as dedup_repository
from services.beneficiaries.dedup.matching import Match, PersonDraft, score
from services.beneficiaries.dedup.service import draft_of, find_matches_many
from services.beneficiaries.matches import repository
from services.beneficiaries.models import AdminArea
from services.beneficiaries.partners.fields import PROGRAMMES_FIELD
from services.beneficiaries.partners.scope import PartnerScope
from services.beneficiaries.programmes import repository as programme_repository

# A names match must beat the next candidate (another person) by this much; else the row
# is ambiguous and its candidates are listed.
MARGIN = 0.1
MAX_CANDIDATES = 5
IDENTIFIER_METHODS = ("unhcr_individual", "unhcr_case", "phone")


class Decided(NamedTuple):
    """A row matched: its outcome, the result as the caller may see it, and the household
    matched (kept apart, never shown: for the audit)."""

    number: int
    outcome: str
    result: dict[str, Any]
    household_id: uuid.UUID | None


class _Id(NamedTuple):
    type: str
    value: str


@dataclass(frozen=True)
class _Person:
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    sex: str
    birth_date: date
    birth_date_estimated: bool


@dataclass(frozen=True)
class Settings:
    threshold: float
    window: int


def _draft(submitted: Mapping[str, Any], localities: Mapping[str, AdminArea]) -> PersonDraft | None:
    """The row as the duplicate check compares a person; None without the given name,
    sex and birth date it looks candidates up by."""
    if not (submitted.get("given_name") and submitted.get("sex") and submitted.get("birth_date")):
        return None
    person = _Person(
        submitted["given_name"],
        submitted.get("father_name"),
        submitted.get("grandfather_name"),
        submitted["sex"],
        date.fromisoformat(submitted["birth_date"]),
        bool(submitted.get("birth_date_estimated")),
    )
    locality = localities.get(submitted.get("locality_code") or "")
    draft = draft_of(
        person,
        locality.code if locality else None,
        locality.region_code if locality else None,
        [_Id(kind, value) for kind, value in submitted.get("identifiers", [])],
    )
    return replace(draft, commune_code=locality.parent_code if locality else None)


async def match_batch(
    session: AsyncSession,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    scope: PartnerScope | None,
    localities: Mapping[str, AdminArea],
    settings: Settings,
) -> list[Decided]:
    """Each row's (row number, outcome, result): matched, ambiguous or not_found."""
    drafts = [_draft(submitted, localities) for _, submitted in rows]
    pairs = [
        (kind, value) for _, submitted in rows for kind, value in submitted.get("identifiers", [])
    ]
    owners = await repository.identifier_owners(session, pairs)
    scorable = [(index, draft) for index, draft in enumerate(drafts) if draft is not None]
    found = await find_matches_many(
        session,
        [(draft, None) for _, draft in scorable],
        threshold=settings.threshold,
        window=settings.window,
    )
    by_names: dict[int, list[Match]] = {
        index: matches for (index, _), matches in zip(scorable, found, strict=True)
    }
    everyone = {p for people in owners.values() for p in people} | {
        m.candidate.individual_id for matches in found for m in matches
    }
    visible = await repository.visible_people(session, list(everyone), scope)
    # Identifier owners scored against the row, to tell a family's members apart.
    owner_details = await dedup_repository.candidate_details(
        session, [p for people in owners.values() for p in people if p in visible]
    )
    decided: list[tuple[int, str, dict[str, Any]]] = []
    matched_households: set[uuid.UUID] = set()
    for index, (number, submitted) in enumerate(rows):
        draft = drafts[index]
        outcome, result = _decide(
            [tuple(i) for i in submitted.get("identifiers", [])],
            owners,
            draft,
            by_names.get(index, []),
            visible,
            owner_details,
            settings.threshold,
        )
        if outcome == "matched":
            matched_households.add(visible[result["individual_id"]][0])
        decided.append((number, outcome, result))
    programmes = await _programmes(session, matched_households, scope)
    shown = []
    for (number, outcome, result), (_, submitted) in zip(decided, rows, strict=True):
        answer = _shown(outcome, result, visible, programmes, scope)
        if submitted.get("unreadable"):
            # The row's own cells that could not be read (matched without them).
            answer["unreadable"] = submitted["unreadable"]
        household = visible[result["individual_id"]][0] if outcome == "matched" else None
        shown.append(Decided(number, outcome, answer, household))
    return shown


def _decide(
    identifiers: list[tuple[Any, ...]],
    owners: Mapping[tuple[str, str], list[uuid.UUID]],
    draft: PersonDraft | None,
    matches: list[Match],
    visible: Mapping[uuid.UUID, tuple[uuid.UUID, str]],
    details: Mapping[uuid.UUID, Any],
    threshold: float,
) -> tuple[str, dict[str, Any]]:
    for method in IDENTIFIER_METHODS:
        held = [
            p
            for kind, value in identifiers
            if kind == method
            for p in owners.get((kind, value), [])
            if p in visible
        ]
        people = list(dict.fromkeys(held))
        if not people:
            continue
        if len(people) == 1:
            return "matched", {"method": method, "score": 1.0, "individual_id": people[0]}
        # A family's phone or case: the row's names tell which of them it is.
        if draft is not None:
            scored = sorted(
                (score(draft, details[p]) for p in people if p in details),
                key=lambda m: -m.score,
            )
            best = _clear_winner(scored, threshold)
            if best is not None:
                return "matched", {
                    "method": f"{method}+names",
                    "score": best.score,
                    "individual_id": best.candidate.individual_id,
                }
        return "ambiguous", {
            "method": method,
            "candidates": [{"individual_id": p, "score": None} for p in people[:MAX_CANDIDATES]],
        }
    shown = [m for m in matches if m.candidate.individual_id in visible]
    if not shown:
        return "not_found", {}
    best = _clear_winner(shown, threshold)
    if best is not None:
        return "matched", {
            "method": "names",
            "score": best.score,
            "individual_id": best.candidate.individual_id,
            "reasons": best.reasons,
        }
    return "ambiguous", {
        "method": "names",
        "candidates": [
            {"individual_id": m.candidate.individual_id, "score": m.score}
            for m in shown[:MAX_CANDIDATES]
        ],
    }


def _clear_winner(scored: Sequence[Match], floor: float) -> Match | None:
    """The best match when it leads the next by MARGIN (or is alone) and scores at least
    `floor`."""
    if not scored or scored[0].score < floor:
        return None
    if len(scored) == 1 or scored[0].score - scored[1].score >= MARGIN:
        return scored[0]
    return None


async def _programmes(
    session: AsyncSession, households: set[uuid.UUID], scope: PartnerScope | None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """What the matched households are enrolled in: for a partner, only when its agreement
    covers programmes, and only its agreement's programmes."""
    if scope is not None and not scope.allows(PROGRAMMES_FIELD):
        return {}
    codes = scope.programmes if scope is not None else None
    enrolled = await programme_repository.current_enrollments(session, list(households), codes)
    # The report names a programme in English.
    return {
        household: [
            {key: e[key] for key in ("programme", "status", "enrolled_on", "status_since")}
            | {"name": e["name_en"]}
            for e in enrollments
        ]
        for household, enrollments in enrolled.items()
    }


def _reference(scope: PartnerScope | None, name: str, value: Any) -> Any:
    """A record's id as the caller sees it: as it is for staff, and for a partner whose
    agreement shows that field; otherwise the partner's pseudonym."""
    if scope is None or (not scope.pseudonymise and scope.allows(name)):
        return str(value)
    return scope.pseudonym(name, value)


def _person(
    individual_id: uuid.UUID,
    visible: Mapping[uuid.UUID, tuple[uuid.UUID, str]],
    scope: PartnerScope | None,
) -> dict[str, Any]:
    household, number = visible[individual_id]
    person = {
        "household": _reference(scope, "household_id", household),
        "individual": _reference(scope, "individual_id", individual_id),
    }
    if scope is None or (not scope.pseudonymise and scope.allows("registry_number")):
        person["registry_number"] = number
    return person


def _shown(
    outcome: str,
    result: dict[str, Any],
    visible: Mapping[uuid.UUID, tuple[uuid.UUID, str]],
    programmes: Mapping[uuid.UUID, list[dict[str, Any]]],
    scope: PartnerScope | None,
) -> dict[str, Any]:
    """The result as the caller may see it (it is stored so)."""
    if outcome == "not_found":
        return {}
    if outcome == "ambiguous":
        return {
            "method": result["method"],
            "candidates": [
                {**_person(c["individual_id"], visible, scope), "score": c["score"]}
                for c in result["candidates"]
            ],
        }
    person = result["individual_id"]
    shown = {
        "method": result["method"],
        "score": round(result["score"], 4),
        **_person(person, visible, scope),
    }
    if scope is None or scope.allows(PROGRAMMES_FIELD):
        shown["programmes"] = programmes.get(visible[person][0], [])
    if scope is None and "reasons" in result:
        shown["reasons"] = result["reasons"]
    return shown
