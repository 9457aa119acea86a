"""The typed client against the real registry, in-process, as the funding service will call
it; and against a small server for what the registry does not do on demand (fail, stall,
answer nonsense)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from services.beneficiaries.app import create_app
from shared.db import Database
from shared.errors import TYPE_BASE
from shared.http_client import create_http_client
from shared.logs import configure_logging
from shared.service_client import (
    BadGateway,
    ServiceClient,
    ServiceUnavailable,
    UpstreamProblem,
    UpstreamTimeout,
    url_path,
)
from tests.beneficiaries.payloads import household, member, programme
from tests.support.apps import serve
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory
from tests.support.upstream import free_port, running

REGISTRY = "http://beneficiaries.test"
PROGRAMMES = "/api/v1/beneficiaries/programmes"
PROGRAMME = "/api/v1/beneficiaries/programmes/{code}"
ENROLLMENTS = "/api/v1/beneficiaries/programmes/{code}/enrollments"
STATS = "/api/v1/beneficiaries/stats"
PERSONAL = "Fatouma Said, born 1988"


# What the calling service declares about the registry's answers: its own models, not the
# registry's (services never import each other).


class Programme(BaseModel):
    id: uuid.UUID
    code: str
    status: Literal["active", "closed"]
    benefit_amount: int
    benefit_currency: str
    benefit_period: str
    version: int


class NewProgramme(BaseModel):
    code: str
    name_fr: str
    name_en: str
    benefit_amount: int
    benefit_period: str


class EnrollmentLine(BaseModel):
    enrollment_id: uuid.UUID
    household_id: uuid.UUID
    programme: str
    status: str
    benefit_amount: int
    benefit_currency: str


class Stats(BaseModel):
    measure: str
    total: int
    rows: list[dict[str, str | int | None]]


class StaticToken:
    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token


@dataclass
class Registry:
    app: FastAPI
    direct: httpx.AsyncClient  # straight to the app, to set things up
    admin: dict[str, str]


@pytest.fixture
async def registry(tokens: TokenFactory, beneficiaries_db: Database) -> AsyncIterator[Registry]:
    app = create_app(registry_settings(tokens))
    admin = as_role(tokens, "admin")
    async with serve(app, beneficiaries_db, REGISTRY) as direct:
        created = await direct.post(PROGRAMMES, json=programme(), headers=admin)
        assert created.status_code == 201, created.text
        yield Registry(app, direct, admin)


@pytest.fixture
async def registry_as(
    registry: Registry, tokens: TokenFactory
) -> AsyncIterator[Callable[..., ServiceClient]]:
    """A typed client of the registry, calling with a token holding `roles`."""
    opened: list[httpx.AsyncClient] = []

    def client(*roles: str) -> ServiceClient:
        token = tokens.token(sub="client:svc-funding", roles=list(roles))
        http = create_http_client(
            REGISTRY,
            transport=httpx.ASGITransport(app=registry.app),
            token_provider=StaticToken(token),
        )
        opened.append(http)
        return ServiceClient(http, "beneficiaries")

    yield client
    for http in opened:
        await http.aclose()


@pytest.fixture
def beneficiaries(registry_as: Callable[..., ServiceClient]) -> ServiceClient:
    return registry_as("service")


async def test_a_programme_is_read_as_the_callers_model(beneficiaries: ServiceClient) -> None:
    programme = await beneficiaries.get(url_path(PROGRAMME, code="pnsf"), Programme)
    assert isinstance(programme, Programme)
    assert (programme.code, programme.status, programme.version) == ("pnsf", "active", 1)
    assert (programme.benefit_amount, programme.benefit_currency) == (30_000, "DJF")


async def test_an_unknown_programme_is_none(
    beneficiaries: ServiceClient, registry: Registry, tokens: TokenFactory
) -> None:
    assert await beneficiaries.get_or_none(url_path(PROGRAMME, code="pnsf"), Programme)
    assert await beneficiaries.get_or_none(url_path(PROGRAMME, code="nowhere"), Programme) is None
    # A code is one path segment: "../stats" does not reach the statistics route, which
    # it would if pasted into the path as it is.
    sneaky = url_path(PROGRAMME, code="../stats")
    assert (
        await beneficiaries.get_or_none(sneaky, Programme, params={"measure": "households"}) is None
    )
    pasted = await registry.direct.get(
        f"{PROGRAMMES}/../stats",
        params={"measure": "households"},
        headers=tokens.bearer(roles=["service"]),
    )
    assert pasted.status_code == 200 and "total" in pasted.json()


def test_values_in_paths_stay_one_segment() -> None:
    assert url_path("/p/{code}/x", code="a b/c?d#e") == "/p/a%20b%2Fc%3Fd%23e/x"
    assert url_path("/p/{code}", code="..") == "/p/%2E%2E"
    assert url_path("/p/{code}", code=".") == "/p/%2E"
    assert url_path("/h/{id}", id=uuid.UUID(int=1)) == "/h/00000000-0000-0000-0000-000000000001"
    with pytest.raises(ValueError, match="empty"):
        url_path("/p/{code}", code="")


async def test_a_caller_without_the_role_gets_the_registrys_refusal(
    registry_as: Callable[..., ServiceClient],
) -> None:
    partner = registry_as("partner")
    with pytest.raises(UpstreamProblem) as refused:
        await partner.get(url_path(PROGRAMME, code="pnsf"), Programme)
    problem = refused.value
    assert problem.upstream_status == 403
    assert problem.upstream_type == TYPE_BASE + "forbidden"
    assert problem.upstream_title == "Forbidden"
    assert problem.upstream_detail is not None and "service" in problem.upstream_detail
    assert problem.service == "beneficiaries"

    # Left unhandled, it is the calling service's 502: the registry's 403 was about the
    # calling service's token, not about whoever called it.
    response = problem.to_response("/api/v1/funding/projects")
    body = json.loads(response.body)
    assert (response.status_code, body["status"], body["type"]) == (
        502,
        502,
        TYPE_BASE + "bad-gateway",
    )
    assert body["detail"] == "The beneficiaries service refused the request (403 Forbidden)."
    assert problem.upstream_detail not in response.body.decode()


async def test_a_refused_query_carries_the_registrys_field_errors(
    beneficiaries: ServiceClient,
) -> None:
    with pytest.raises(UpstreamProblem) as refused:
        await beneficiaries.get(STATS, Stats, params={"measure": "goats"})
    assert refused.value.upstream_status == 422
    assert refused.value.upstream_type == TYPE_BASE + "validation-error"
    paths = [error["path"] for error in refused.value.upstream_extensions["errors"]]
    assert paths == ["query.measure"]


async def test_a_post_with_an_idempotency_key_is_done_once(
    registry_as: Callable[..., ServiceClient],
) -> None:
    admin = registry_as("admin")
    body = NewProgramme(
        code="cash-plus",
        name_fr="Cash plus",
        name_en="Cash plus",
        benefit_amount=15_000,
        benefit_period="monthly",
    )
    first = await admin.post(PROGRAMMES, body, Programme, idempotency_key="cash-plus-1")
    again = await admin.post(PROGRAMMES, body, Programme, idempotency_key="cash-plus-1")
    assert isinstance(first, Programme) and again == first
    assert (first.code, first.benefit_amount, first.benefit_period) == (
        "cash-plus",
        15_000,
        "monthly",
    )

    with pytest.raises(UpstreamProblem) as conflict:  # a dict body, and no key: a new write
        await admin.post(PROGRAMMES, body.model_dump(), Programme)
    assert conflict.value.upstream_status == 409


async def test_enrollments_stream_as_typed_lines(
    beneficiaries: ServiceClient, registry: Registry
) -> None:
    homes = []
    for _ in range(3):
        registered = await registry.direct.post(
            "/api/v1/beneficiaries/households",
            json=household([member("Fatouma", "Said", "Robleh")]),
            headers=registry.admin,
        )
        assert registered.status_code == 201, registered.text
        homes.append(uuid.UUID(registered.json()["id"]))
        enrolled = await registry.direct.post(
            url_path(ENROLLMENTS, code="pnsf"),
            json={"household_id": str(homes[-1]), "override_reason": "committee decision"},
            headers=registry.admin,
        )
        assert enrolled.status_code == 201, enrolled.text

    lines = [
        line
        async for line in beneficiaries.stream_lines(
            url_path(ENROLLMENTS, code="pnsf"), EnrollmentLine
        )
    ]
    assert all(isinstance(line, EnrollmentLine) for line in lines)
    assert sorted(line.household_id for line in lines) == sorted(homes)
    assert {(line.programme, line.status, line.benefit_amount) for line in lines} == {
        ("pnsf", "active", 30_000)
    }

    stats = await beneficiaries.get(
        STATS, Stats, params={"measure": "enrollments", "group_by": "programme"}
    )
    assert stats.total == 3
    assert stats.rows == [{"programme": "pnsf", "count": 3}]

    with pytest.raises(UpstreamProblem) as missing:
        async for _ in beneficiaries.stream_lines(
            url_path(ENROLLMENTS, code="nowhere"), EnrollmentLine
        ):
            pass
    assert missing.value.upstream_status == 404


async def test_an_answer_that_does_not_match_the_model_is_a_502(
    beneficiaries: ServiceClient, capfd: pytest.CaptureFixture[str]
) -> None:
    class Expected(BaseModel):
        code: str
        name_fr: int  # what the caller wrongly believes

    with pytest.raises(BadGateway) as invalid:
        await beneficiaries.get(url_path(PROGRAMME, code="pnsf"), Expected)
    assert invalid.value.status == 502
    assert invalid.value.detail == "The beneficiaries service gave no valid answer."

    logged = log_lines(capfd)
    [entry] = [e for e in logged if e.get("message") == "service answer does not match its model"]
    assert entry["path"] == "/api/v1/beneficiaries/programmes/pnsf"
    assert entry["errors"] == [{"path": "name_fr", "type": "int_parsing"}]
    assert not any("Solidarité" in json.dumps(e) for e in logged)


# The failures the registry does not produce on demand, from a small server over real HTTP.


_released = asyncio.Event()


async def _stalled(_: Request) -> Response:
    """Answers only once the test lets it go."""
    await _released.wait()
    return JSONResponse({"code": "pnsf"})


async def _crash(_: Request) -> Response:
    return PlainTextResponse(f"Traceback (most recent call last): {PERSONAL}", status_code=500)


async def _busy(_: Request) -> Response:
    return JSONResponse(
        {"type": "https://inds.gov.dj/problems/database-unavailable", "status": 503},
        status_code=503,
        media_type="application/problem+json",
        headers={"Retry-After": "1"},
    )


async def _nonsense(_: Request) -> Response:
    return JSONResponse({"code": 7, "name": PERSONAL})


async def _lines(_: Request) -> Response:
    body = (
        '{"n": 1, "note": "line\u2028separator"}\r\n\n{"n": 2}\n'
        f'{{"n": "{PERSONAL}"}}\n{{"n": 4}}\n'
    )
    return Response(body.encode(), media_type="application/x-ndjson")


async def _endless_line(_: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 65536

    return StreamingResponse(chunks(), media_type="application/x-ndjson")


failing = Starlette(
    routes=[
        Route("/crash", _crash),
        Route("/busy", _busy),
        Route("/nonsense", _nonsense),
        Route("/stalled", _stalled),
        Route("/lines", _lines),
        Route("/endless-line", _endless_line),
    ]
)


class Numbered(BaseModel):
    n: int


@pytest.fixture
async def failing_url() -> AsyncIterator[str]:
    _released.clear()
    async with running(failing) as url:
        try:
            yield url
        finally:
            _released.set()  # before the server stops: it waits for answers in flight


@pytest.fixture
async def caller(failing_url: str) -> AsyncIterator[Callable[..., ServiceClient]]:
    """A typed client of the small server; `options` go to `create_http_client`."""
    configure_logging("funding")  # as the calling service's app does when it is built
    opened: list[httpx.AsyncClient] = []

    def client(**options: float) -> ServiceClient:
        http = create_http_client(failing_url, **options)  # type: ignore[arg-type]
        opened.append(http)
        return ServiceClient(http, "beneficiaries", max_line_bytes=100_000)

    yield client
    for http in opened:
        await http.aclose()


def log_lines(capfd: pytest.CaptureFixture[str]) -> list[dict]:
    out = capfd.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def rendered(problem: Exception) -> tuple[httpx.Response, dict]:
    """What the calling service's client receives when the problem is not handled."""
    assert isinstance(problem, ServiceUnavailable | UpstreamTimeout | BadGateway)
    response = problem.to_response("/api/v1/funding/projects")
    answer = httpx.Response(
        response.status_code, headers=dict(response.headers), content=bytes(response.body)
    )
    return answer, answer.json()


async def test_an_unreachable_service_is_a_503_to_retry(
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("funding")
    http = create_http_client(f"http://127.0.0.1:{free_port()}", retries=1)
    try:
        with pytest.raises(ServiceUnavailable) as unavailable:
            await ServiceClient(http, "beneficiaries").get(
                url_path(PROGRAMME, code="pnsf"), Programme
            )
    finally:
        await http.aclose()
    response, body = rendered(unavailable.value)
    assert (response.status_code, body["type"]) == (503, TYPE_BASE + "service-unavailable")
    assert response.headers["content-type"] == "application/problem+json"
    assert body["detail"] == "The beneficiaries service is unavailable; try again."
    assert response.headers["retry-after"] == "5"
    [entry] = [e for e in log_lines(capfd) if e.get("message") == "service call failed"]
    assert (entry["service"], entry["path"]) == (
        "beneficiaries",
        "/api/v1/beneficiaries/programmes/pnsf",
    )


async def test_a_server_error_is_a_502_that_repeats_nothing_of_it(
    caller: Callable[..., ServiceClient], capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(BadGateway) as failed:
        await caller().get("/crash", Programme)
    response, body = rendered(failed.value)
    assert (response.status_code, body["type"]) == (502, TYPE_BASE + "bad-gateway")
    assert body["detail"] == "The beneficiaries service gave no valid answer."
    assert "Fatouma" not in response.text and "Traceback" not in response.text
    logged = log_lines(capfd)
    [entry] = [e for e in logged if e.get("message") == "service call failed"]
    assert (entry["path"], entry["upstream_status"]) == ("/crash", 500)
    assert not any("Fatouma" in json.dumps(e) for e in logged)


async def test_a_service_asking_to_be_retried_stays_a_503(
    caller: Callable[..., ServiceClient],
) -> None:
    with pytest.raises(ServiceUnavailable) as busy:
        await caller().get("/busy", Programme)
    response, _ = rendered(busy.value)
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")


async def test_no_answer_in_time_is_a_504(caller: Callable[..., ServiceClient]) -> None:
    with pytest.raises(UpstreamTimeout) as late:
        await caller(timeout=0.2).get("/stalled", Programme)
    response, body = rendered(late.value)
    assert (response.status_code, body["type"]) == (504, TYPE_BASE + "gateway-timeout")
    assert body["detail"] == "The beneficiaries service did not answer in time."


async def test_nonsense_is_a_502_and_its_values_are_not_logged(
    caller: Callable[..., ServiceClient], capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(BadGateway):
        await caller().get("/nonsense", Programme)
    logged = log_lines(capfd)
    [entry] = [e for e in logged if e.get("message") == "service answer does not match its model"]
    assert entry["model"] == "Programme"
    assert {"path": "code", "type": "string_type"} in entry["errors"]
    assert not any("Fatouma" in json.dumps(e) for e in logged)


async def test_a_stream_gives_each_line_until_a_bad_one(
    caller: Callable[..., ServiceClient], capfd: pytest.CaptureFixture[str]
) -> None:
    received: list[int] = []
    with pytest.raises(BadGateway):
        async for item in caller().stream_lines("/lines", Numbered):
            received.append(item.n)
    # U+2028 inside a string is not a line break; blank lines are skipped.
    assert received == [1, 2]
    assert not any("Fatouma" in json.dumps(e) for e in log_lines(capfd))


async def test_a_line_past_the_limit_is_a_502(caller: Callable[..., ServiceClient]) -> None:
    with pytest.raises(BadGateway):
        async for _ in caller().stream_lines("/endless-line", Numbered):
            pass
