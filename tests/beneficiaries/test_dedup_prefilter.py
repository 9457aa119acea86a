"""Duplicate flagging judges most candidates before reading them in full: by names and birth
dates with what the draft's own household and identifiers could add (`within_reach`), then
by place and identifiers before the households are compared (`could_reach`). Neither may
leave out a pair that `score` would flag, whatever the households say."""

from __future__ import annotations

import pytest

from bench import dedup_quality
from bench.dedup_testset import build
from services.beneficiaries.dedup.matching import (
    could_reach,
    household_evidence,
    household_reach,
    score,
    within_reach,
)


def _pairs(people: list[dedup_quality.Person]) -> list[tuple[dedup_quality.Person, ...]]:
    return list(dedup_quality.candidate_pairs(people, 2))


@pytest.fixture(scope="module")
def labelled() -> list[dedup_quality.Person]:
    """Re-registrations of every kind (weak dates borne out by the household or a phone)
    and look-alikes (siblings, twins, namesakes), with their households."""
    return dedup_quality.people_of(build(300).households)


@pytest.fixture(scope="module")
def synthetic() -> list[dedup_quality.Person]:
    """The synthetic registry's common names: many namesakes a person."""
    households, _ = dedup_quality._synthetic_households(1500, seed=5)
    return dedup_quality.people_of(households)


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
@pytest.mark.parametrize("people", ["labelled", "synthetic"])
def test_no_pair_that_would_be_flagged_is_left_out_before_scoring(
    people: str, threshold: float, request: pytest.FixtureRequest
) -> None:
    flagged = left_out = 0
    for later, earlier in _pairs(request.getfixturevalue(people)):
        draft, candidate = later.draft, dedup_quality._as_candidate(earlier)
        row = (
            earlier.id,
            candidate.given_name,
            candidate.father_name,
            candidate.grandfather_name,
            candidate.birth_date,
            candidate.birth_date_estimated,
        )
        # who holds the draft's phone or case, known before the candidates are read
        sharing = {earlier.id} if draft.shared_identifiers & candidate.shared_identifiers else ()
        kept = within_reach(draft, threshold, [row], sharing) and could_reach(
            draft, candidate, threshold
        )
        if score(draft, candidate).score >= threshold:
            flagged += 1
            assert kept, (draft, candidate)
        left_out += not kept
    assert flagged >= 5  # not vacuous
    assert left_out > flagged  # and the bounds do leave pairs out


def test_the_household_adds_no_more_than_its_reach(labelled: list) -> None:
    """Each agreement needs someone of that role in the draft's household."""
    for later, earlier in _pairs(labelled):
        added, _ = household_evidence(later.draft, dedup_quality._as_candidate(earlier))
        assert added <= household_reach(later.draft) + 1e-9
