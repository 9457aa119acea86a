"""Hostile input: schemathesis sends every operation of the gateway's merged OpenAPI, as
each role, generated requests, valid and invalid (wrong types, out-of-range values, missing
fields, odd characters).

What an integrator relies on: the API never answers 5xx to bad input, and every answer is
one the document announces — a declared status code, a declared content type and a body
of the declared schema — so a client generated from the document understands it.

Bounded for CI: `INDS_FUZZ_EXAMPLES` requests per operation and role (default 3, about a
minute). By hand, longer and with other inputs: `make fuzz` (INDS_FUZZ_EXAMPLES=50 and a
new seed each run; `INDS_FUZZ_SEED` repeats one).

It runs against a stack of its own: it creates, changes and deletes at random (clients,
agreements, programmes...), which the other reliability tests must not see.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import Failure, FailureGroup

from inds.stack import DEMO_CLIENTS
from tests.support.stack import RunningStack, start_stack, stop_stack
from tests.support.upstream import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
EXAMPLES = int(os.environ.get("INDS_FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("INDS_FUZZ_SEED", "20261204"))
ROLES = ("admin", *(client["client_id"] for client in DEMO_CLIENTS))


@schemathesis.check
def declared_status(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Stricter than status_code_conformance, which any status passes when the operation
    has a `default` answer (every one here has): the status is one the operation names.
    An integrator learns from the document that a 404 or a 409 can come, and what it means."""
    declared = case.operation.definition.raw.get("responses", {})
    status = str(response.status_code)
    assert status in declared or f"{status[0]}XX" in declared, (
        f"{response.status_code} is not among the operation's answers: {sorted(declared)}"
    )
    return None


# What the document promises about each answer. Left out, as they measure the fuzzer
# rather than the API:
# - positive_data_acceptance: a schema-valid request may still name a record that does
#   not exist, an organisation of another partner, a currency ISO 4217 withdrew, an end
#   before its start, an If-Match it never read; the 404/409/412/422 it gets is right.
# - negative_data_rejection: query values travel as text, so "1" for an integer is the
#   integer 1 on the wire; and a mutation the server tolerates (an unknown query
#   parameter) is no defect.
# - the stateful checks (use_after_free, ensure_resource_availability) and the auth ones
#   (ignored_auth...): the access matrix (issue 11, item 6) covers who may do what.
# - max_response_time: no wall-clock limits in tests.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    declared_status,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# The token endpoint counts failed attempts per account and per address and then locks
# both out: fuzzed there, it would lock this test (and its address) out of its own tokens.
EXCLUDED = {("POST", "/auth/token")}
# Operations that change an account's credentials or switch it off: sent to an account
# made for the purpose, not to the roles this test signs in as.
THROWAWAY = {"client_id": "fuzz-throwaway", "username": "fuzz-throwaway"}
CREDENTIAL_CHANGES = ("/disable", "/rotate-secret", "/reset-password")


@dataclass(frozen=True)
class Finding:
    check: str
    operation: str
    role: str
    status: int
    message: str


@pytest.fixture(scope="module")
def fuzzed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own, its rate limit out of the way: thousands of requests a minute
    from one client are the point here, not abuse to slow down."""
    running = start_stack(
        tmp_path_factory.mktemp("hostile") / "data",
        free_port(),
        env={
            "INDS_GATEWAY_RATE_LIMIT_PER_SECOND": "10000",
            "INDS_GATEWAY_RATE_LIMIT_BURST": "10000",
        },
    )
    yield running
    stop_stack(running)


def _throwaway_accounts(stack: RunningStack, admin: dict[str, str]) -> None:
    created = [
        requests.post(
            f"{stack.url}/api/v1/admin/clients",
            json={"client_id": THROWAWAY["client_id"], "name": "Fuzz", "roles": ["analyst"]},
            headers=admin,
            timeout=30,
        ),
        requests.post(
            f"{stack.url}/api/v1/admin/users",
            json={"username": THROWAWAY["username"], "full_name": "Fuzz", "roles": ["analyst"]},
            headers=admin,
            timeout=30,
        ),
    ]
    for answer in created:
        assert answer.status_code == 201, answer.text


def _protect_accounts(case: schemathesis.Case) -> None:
    if case.method == "POST" and case.path.endswith(CREDENTIAL_CHANGES):
        for name, value in THROWAWAY.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value


def _strategy(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests and invalid ones (where the operation has anything to get wrong)."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    with contextlib.suppress(Exception):  # nothing to make invalid
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(strategies)


def _fuzz(
    strategy: st.SearchStrategy[schemathesis.Case],
    examples: int,
    role: str,
    headers: dict[str, str],
    session: requests.Session,
    findings: list[Finding],
) -> list[int]:
    """`examples` requests as `role`; the status code of each answer."""
    statuses: list[int] = []

    @seed(SEED)
    @settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def send(case: schemathesis.Case) -> None:
        _protect_accounts(case)
        response = case.call(session=session, headers=headers, timeout=60)
        statuses.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, Failure) as caught:
            failures = caught.exceptions if isinstance(caught, FailureGroup) else (caught,)
            findings.extend(
                Finding(
                    f.title,
                    case.operation.label,
                    role,
                    response.status_code,
                    f"{f.message}\n{case.as_curl_command()}\n{response.text[:300]}",
                )
                for f in failures
            )

    send()
    return statuses


@pytest.mark.timeout(900)
def test_every_operation_answers_only_what_it_documents(fuzzed_stack: RunningStack) -> None:
    tokens = {role: fuzzed_stack.headers(role) for role in ROLES}
    _throwaway_accounts(fuzzed_stack, tokens["admin"])
    schema = schemathesis.openapi.from_url(f"{fuzzed_stack.url}/openapi.json", timeout=60)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if (result.ok().method.upper(), result.ok().path) not in EXCLUDED
    ]
    assert len(operations) > 150, "the services' documents were merged in"

    findings: list[Finding] = []
    answered: Counter[int] = Counter()
    with requests.Session() as session:
        for operation in operations:
            strategy = _strategy(operation)
            for role in ROLES:
                first = _fuzz(strategy, 1, role, tokens[role], session, findings)
                answered.update(first)
                # A role refused the operation is refused whatever it sends: the rest of
                # the budget goes to the roles that get past the door.
                if EXAMPLES > 1 and first != [403]:
                    answered.update(
                        _fuzz(strategy, EXAMPLES - 1, role, tokens[role], session, findings)
                    )

    kinds = Counter(f.check for f in findings)
    seen: set[tuple[str, str, int]] = set()
    report = []
    for f in findings:
        if (f.check, f.operation, f.status) not in seen:
            seen.add((f.check, f.operation, f.status))
            report.append(f"{f.check}: {f.operation} as {f.role} -> {f.status}\n{f.message}")
    print(
        f"{len(operations)} operations x {len(ROLES)} roles, {EXAMPLES} examples each"
        f" (a refused role: 1), seed {SEED}: answers {dict(sorted(answered.items()))},"
        f" findings {dict(kinds)}"
    )
    assert not findings, f"{dict(kinds)}\n\n" + "\n\n".join(report)
