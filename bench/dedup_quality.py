"""How well duplicate detection tells re-registrations from look-alikes, in memory, with
the registry's own candidate lookup (two name parts agreeing by phonetic key, same sex,
birth years within the window and the date reach) and its own score, households and all.

Two sets:

- the labelled test set of `bench/dedup_testset.py` (built as a ministry's data looks, not
  by the registry's generator): recall per kind of error, and the share of each kind of
  look-alike flagged;
- the synthetic registry `inds seed` loads (same generator, seed 1): flagged pairs per
  1,000 people that are not its planted duplicates, what a review team would face.

    python -m bench.dedup_quality [--households 85000] [--testset 4000]

`run(households)` returns the figures for a bench runner.
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bench.dedup_testset import NEGATIVE_KINDS, POSITIVE_KINDS, build
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dedup.matching import (
    EXACT_REACH_DAYS,
    YEAR_REACH,
    Candidate,
    PersonDraft,
    Relative,
    score,
    within_reach,
    year_only,
)
from services.beneficiaries.models import NAME_PART_PAIRS
from services.beneficiaries.names import phonetic_key
from services.beneficiaries.vocabulary import SHARED_IDENTIFIER_TYPES

PARTS = ("given", "father", "grandfather")
TARGETS = {"recall": 0.95, "look_alikes_flagged": 0.02, "flagged_per_1000": 5.0}


@dataclass
class Person:
    id: str
    order: int  # registration order: a person is checked against those before
    household: str
    draft: PersonDraft
    keys: tuple[str, str, str]


def _person(order: int, household: dict[str, Any], member: dict[str, Any]) -> Person:
    others = tuple(
        Relative(m["given_name"], m["sex"], m["birth_date"].year, m["relationship"])
        for m in household["members"]
        if m is not member
    )
    identifiers = [(kind, value) for kind, value in member["identifiers"]]
    # a phone, a case number: the household's, whoever it was recorded on
    family = {
        (kind, value)
        for m in household["members"]
        for kind, value in m["identifiers"]
        if kind in SHARED_IDENTIFIER_TYPES
    }
    draft = PersonDraft(
        given_name=member["given_name"],
        father_name=member["father_name"],
        grandfather_name=member["grandfather_name"],
        sex=member["sex"],
        birth_date=member["birth_date"],
        birth_date_estimated=member["estimated"],
        locality_code=household["locality"],
        region_code=household["region"],
        shared_identifiers=frozenset(family),
        commune_code=household["commune"],
        unique_identifiers=frozenset(i for i in identifiers if i[0] not in SHARED_IDENTIFIER_TYPES),
        relationship=member["relationship"],
        household=others,
    )
    keys = (
        phonetic_key(member["given_name"]),
        phonetic_key(member["father_name"]),
        phonetic_key(member["grandfather_name"]),
    )
    return Person(member["id"], order, household["id"], draft, keys)


def people_of(households: Iterable[dict[str, Any]]) -> list[Person]:
    return [
        _person(order, household, member)
        for order, household in enumerate(households)
        for member in household["members"]
    ]


def _as_candidate(person: Person) -> Candidate:
    d = person.draft
    return Candidate(
        individual_id=None,  # type: ignore[arg-type]
        household_id=None,
        given_name=d.given_name,
        father_name=d.father_name,
        grandfather_name=d.grandfather_name,
        sex=d.sex,
        birth_date=d.birth_date,
        birth_date_estimated=d.birth_date_estimated,
        locality_code=d.locality_code,
        region_code=d.region_code,
        shared_identifiers=d.shared_identifiers,
        commune_code=d.commune_code,
        unique_identifiers=d.unique_identifiers,
        relationship=d.relationship,
        household=d.household,
    )


def _vague(draft: PersonDraft) -> bool:
    """A date for its year only, as the registry's lookup reads it."""
    return year_only(draft.birth_date, draft.birth_date_estimated) is not None


def candidate_pairs(people: Sequence[Person], window: int) -> Iterator[tuple[Person, Person]]:
    """(later, earlier) pairs the registry's lookup brings: see dedup/repository.py (both
    sets give everyone a father name, so single-name lookups are left out)."""
    index: dict[tuple[Any, ...], list[Person]] = collections.defaultdict(list)
    for person in people:
        keys = dict(zip(PARTS, person.keys, strict=True))
        for first, second in NAME_PART_PAIRS:
            if keys[first] and keys[second]:
                index[(first, second, keys[first], keys[second], person.draft.sex)].append(person)
    position = {part: i for i, part in enumerate(PARTS)}
    for (first, second, *_), bucket in index.items():
        # a pair is in a bucket for each key pair they share: met in the first only
        before = [
            (position[x], position[y])
            for x, y in NAME_PART_PAIRS[: NAME_PART_PAIRS.index((first, second))]
        ]
        for a in range(len(bucket)):
            for b in range(a + 1, len(bucket)):
                one, two = bucket[a], bucket[b]
                if one.household == two.household or one.id == two.id:
                    continue
                if any(
                    one.keys[x]
                    and one.keys[y]
                    and one.keys[x] == two.keys[x]
                    and one.keys[y] == two.keys[y]
                    for x, y in before
                ):
                    continue
                later, earlier = (one, two) if one.order > two.order else (two, one)
                x, y = later.draft, earlier.draft
                years = abs(x.birth_date.year - y.birth_date.year)
                if years > window:
                    continue
                days = abs((x.birth_date - y.birth_date).days)
                if days > EXACT_REACH_DAYS and not (
                    (_vague(x) or _vague(y)) and years <= YEAR_REACH
                ):
                    continue
                yield later, earlier


def scored(
    people: Sequence[Person],
    window: int,
    threshold: float,
    wanted: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> dict[tuple[str, str], dict[str, Any]]:
    """The pairs the lookup brings that are flagged, and those `wanted` whatever their
    score, as (earlier id, later id) -> score and reasons. As in the registry, only pairs
    whose names and dates could reach the threshold are scored in full."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for later, earlier in candidate_pairs(people, window):
        key = (earlier.id, later.id)
        d = earlier.draft
        row = (None, d.given_name, d.father_name, d.grandfather_name, d.birth_date)
        if not within_reach(later.draft, threshold, [(*row, d.birth_date_estimated)]):
            if key in wanted:
                out[key] = {"score": 0.0, "reasons": None}
            continue
        match = score(later.draft, _as_candidate(earlier))
        if match.score >= threshold or key in wanted:
            out[key] = {"score": match.score, "reasons": match.reasons}
    return out


def testset_figures(households: int, threshold: float, window: int) -> dict[str, Any]:
    data = build(households)
    people = people_of(data.households)
    labelled = {*data.positives, *data.negatives}
    pairs = scored(people, window, threshold, labelled | {(b, a) for a, b in labelled})

    def flagged(pair: tuple[str, str]) -> bool:
        found = pairs.get(pair) or pairs.get((pair[1], pair[0]))
        return bool(found and found["score"] >= threshold)

    recall: dict[str, list[int]] = {kind: [0, 0] for kind in (*POSITIVE_KINDS, "all")}
    missed: list[tuple[list[str], str | None]] = []
    for pair, kinds in data.positives.items():
        hit = flagged(pair)
        for kind in {*kinds, "all"}:
            recall[kind][0] += hit
            recall[kind][1] += 1
        if not hit and len(missed) < 12:
            reasons = pairs.get(pair, {}).get("reasons") or {}
            missed.append((kinds, reasons.get("summary")))
    look_alikes: dict[str, list[int]] = {kind: [0, 0] for kind in (*NEGATIVE_KINDS, "all")}
    for pair, kind in data.negatives.items():
        for name in (kind, "all"):
            look_alikes[name][0] += flagged(pair)
            look_alikes[name][1] += 1
    labelled = {*data.positives, *((b, a) for a, b in data.positives)}
    others = sum(1 for p, m in pairs.items() if m["score"] >= threshold and p not in labelled)
    return {
        "people": len(people),
        "recall": {
            k: (hit / total if total else None, total) for k, (hit, total) in recall.items()
        },
        "look_alikes_flagged": {
            k: (hit / total if total else None, total) for k, (hit, total) in look_alikes.items()
        },
        "other_flagged_per_1000": 1000 * others / len(people),
        "missed_examples": missed,
    }


def _synthetic_households(households: int, seed: int) -> tuple[list[dict[str, Any]], set]:
    generator = RegistryGenerator(seed=seed, duplicate_rate=0.01)
    out = []
    for household in generator.households(households):
        locality = household["location"]["locality_code"]
        out.append(
            {
                "id": household["id"],
                "locality": locality,
                "commune": locality.rsplit("-", 1)[0],
                "region": locality[:5],
                "members": [
                    {
                        "id": m["id"],
                        "given_name": m["given_name"],
                        "father_name": m.get("father_name"),
                        "grandfather_name": m.get("grandfather_name"),
                        "sex": m["sex"],
                        "birth_date": date.fromisoformat(m["birth_date"]),
                        "estimated": m.get("birth_date_estimated", False),
                        "relationship": m["relationship_to_head"],
                        "identifiers": [(i["type"], i["value"]) for i in m["identifiers"]],
                    }
                    for m in household["members"]
                ],
            }
        )
    planted = {(p.original_individual_id, p.duplicate_individual_id) for p in generator.planted}
    return out, planted


def synthetic_figures(households: int, threshold: float, window: int) -> dict[str, Any]:
    data, planted = _synthetic_households(households, seed=1)
    people = people_of(data)
    pairs = scored(people, window, threshold, planted)
    flagged = [p for p, m in pairs.items() if m["score"] >= threshold]
    planted_found = sum(1 for p in planted if p in pairs and pairs[p]["score"] >= threshold)
    others = [p for p in flagged if p not in planted]
    kinds = collections.Counter(
        next(
            (e["finding"] for e in pairs[p]["reasons"]["evidence"] if e["field"] == "birth_date"),
            "?",
        )
        for p in others
    )
    return {
        "people": len(people),
        "planted": len(planted),
        "planted_recall": planted_found / len(planted) if planted else None,
        "flagged_not_planted": len(others),
        "flagged_per_1000": 1000 * len(others) / len(people),
        "not_planted_by_birth_date": dict(kinds.most_common()),
    }


def run(households: int = 85_000, testset_households: int = 4000) -> dict[str, Any]:
    """The figures, with the targets and whether they are met."""
    settings = BeneficiariesSettings()
    threshold, window = settings.dedup_threshold, settings.dedup_birth_year_window
    started = time.perf_counter()
    test = testset_figures(testset_households, threshold, window)
    synthetic = synthetic_figures(households, threshold, window)
    worst_recall = min(v for v, n in test["recall"].values() if v is not None)
    worst_look_alike = max(
        v for k, (v, n) in test["look_alikes_flagged"].items() if v is not None and k != "all"
    )
    met = {
        "recall": worst_recall >= TARGETS["recall"],
        "look_alikes_flagged": worst_look_alike <= TARGETS["look_alikes_flagged"],
        "flagged_per_1000": synthetic["flagged_per_1000"] <= TARGETS["flagged_per_1000"],
    }
    return {
        "threshold": threshold,
        "testset": test,
        "synthetic": synthetic,
        "targets": TARGETS,
        "worst_recall": worst_recall,
        "worst_look_alike_flagged": worst_look_alike,
        "met": met,
        "seconds": time.perf_counter() - started,
    }


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=85_000)
    parser.add_argument("--testset", type=int, default=4000)
    args = parser.parse_args()
    figures = run(args.households, args.testset)
    test, synthetic, met = figures["testset"], figures["synthetic"], figures["met"]
    print(f"test set: {test['people']} people (bench/dedup_testset.py)")
    for kind, (value, total) in test["recall"].items():
        if value is not None:
            ok = value >= TARGETS["recall"]
            print(f"  recall {kind:22} {value:7.1%} of {total:5}  target >= 95 %  {_mark(ok)}")
    for kind, (value, total) in test["look_alikes_flagged"].items():
        if value is not None:
            ok = value <= TARGETS["look_alikes_flagged"]
            print(f"  flagged {kind:23} {value:6.1%} of {total:5}  target <= 2 %   {_mark(ok)}")
    print(f"  other pairs flagged: {test['other_flagged_per_1000']:.2f} per 1,000 people")
    for kinds, why in test["missed_examples"]:
        print(f"    missed {'+'.join(kinds)}: {why}")
    print(
        f"synthetic registry (inds seed, seed 1): {synthetic['people']} people, "
        "planted recall "
        f"{synthetic['planted_recall']:.1%} of {synthetic['planted']}"
    )
    print(
        f"  flagged, not planted: {synthetic['flagged_not_planted']} = "
        f"{synthetic['flagged_per_1000']:.2f} per 1,000 people  target <= 5  "
        f"{_mark(met['flagged_per_1000'])}"
    )
    print(f"  by birth-date finding: {synthetic['not_planted_by_birth_date']}")
    print(f"({figures['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
