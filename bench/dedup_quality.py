"""How well duplicate scoring separates planted re-registrations from look-alikes, on the
synthetic registry, in memory: the registry's own blocking (two name parts agreeing by
phonetic key, same sex, birth years within the window) and its own score.

Prints recall on planted duplicates and how many other pairs would be flagged, for the
configured threshold and a few around it.

    python -m bench.dedup_quality [--households 30000]
"""

from __future__ import annotations

import argparse
import collections
from datetime import date

from bench.common import Stopwatch
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dedup.matching import Candidate, PersonDraft, score
from services.beneficiaries.models import NAME_PART_PAIRS
from services.beneficiaries.names import phonetic_key

PARTS = ("given", "father", "grandfather")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = BeneficiariesSettings()
    window = settings.dedup_birth_year_window

    watch = Stopwatch()
    generator = RegistryGenerator(seed=args.seed, duplicate_rate=0.015)
    people: list[tuple[str, str, Candidate]] = []
    for household in generator.households(args.households):
        location = household["location"]["locality_code"]
        for m in household["members"]:
            people.append(
                (
                    m["id"],
                    household["id"],
                    Candidate(
                        individual_id=None,
                        household_id=None,
                        given_name=m["given_name"],  # type: ignore[arg-type]
                        father_name=m.get("father_name"),
                        grandfather_name=m.get("grandfather_name"),
                        sex=m["sex"],
                        birth_date=date.fromisoformat(m["birth_date"]),
                        birth_date_estimated=m.get("birth_date_estimated", False),
                        locality_code=location,
                        region_code=location[:5],
                    ),
                )
            )
    index: dict[tuple, list[int]] = collections.defaultdict(list)
    for position, (_, _, person) in enumerate(people):
        keys = dict(
            zip(
                PARTS,
                (
                    phonetic_key(person.given_name),
                    phonetic_key(person.father_name),
                    phonetic_key(person.grandfather_name),
                ),
                strict=True,
            )
        )
        for first, second in NAME_PART_PAIRS:
            if keys[first] and keys[second]:
                index[(first, second, keys[first], keys[second], person.sex)].append(position)
    pairs: set[tuple[int, int]] = set()
    for bucket in index.values():
        for a in range(len(bucket)):
            for b in range(a + 1, len(bucket)):
                i, j = bucket[a], bucket[b]
                if (
                    people[i][1] != people[j][1]
                    and abs(people[i][2].birth_date.year - people[j][2].birth_date.year) <= window
                ):
                    pairs.add((i, j))
    position_of = {person_id: position for position, (person_id, _, _) in enumerate(people)}
    truth = {
        tuple(
            sorted((position_of[p.duplicate_individual_id], position_of[p.original_individual_id]))
        )
        for p in generator.planted
        if p.duplicate_individual_id in position_of and p.original_individual_id in position_of
    }
    scores = []
    for i, j in pairs:
        candidate = people[j][2]
        draft_person = people[i][2]
        draft = PersonDraft(
            draft_person.given_name,
            draft_person.father_name,
            draft_person.grandfather_name,
            draft_person.sex,
            draft_person.birth_date,
            draft_person.birth_date_estimated,
            draft_person.locality_code,
            draft_person.region_code,
        )
        scores.append(((i, j) in truth, score(draft, candidate).score))
    print(
        f"{len(people)} people, {len(truth)} planted duplicates, {len(pairs)} candidate pairs "
        f"({watch.seconds:.0f} s)"
    )
    for threshold in sorted({0.6, 0.65, 0.7, 0.75, 0.8, settings.dedup_threshold}):
        found = sum(1 for is_true, value in scores if is_true and value >= threshold)
        others = sum(1 for is_true, value in scores if not is_true and value >= threshold)
        mark = "  <- configured" if threshold == settings.dedup_threshold else ""
        print(
            f"threshold {threshold:.2f}: recall {found / max(1, len(truth)):.1%}, other pairs "
            f"flagged {others} ({1000 * others / len(people):.1f} per 1,000 people){mark}"
        )


if __name__ == "__main__":
    main()
