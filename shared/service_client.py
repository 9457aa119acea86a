"""Typed calls to another INDS service.

`ServiceClient` wraps a client from `create_http_client` (timeouts, the request id, the
service's own token, retries of connections that never reached the server) and hands back
the caller's own pydantic models. Every failure becomes a problem of the *calling* service,
so callers handle neither httpx nor pydantic errors, and nothing of the other service's
answer is passed on or logged (it may hold personal data):

- the service cannot be reached (refused, connect timeout, no free connection), or answers
  503: 503 `service-unavailable` with `Retry-After`;
- it does not answer in time: 504 `gateway-timeout`;
- another 5xx, a broken answer, or an answer the model does not accept: 502 `bad-gateway`;
- a 4xx: `UpstreamProblem`, carrying the other service's status, type, title and detail.
  The caller decides what it means (a programme code the registry does not know is the
  caller's 422); left unhandled it reaches the caller's client as a 502, since the other
  service's 401 or 403 is about the calling service, not about that client.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Hashable, Iterator, Mapping
from contextlib import aclosing, contextmanager
from functools import lru_cache
from http import HTTPStatus
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_json

from shared.errors import ProblemError
from shared.logs import get_logger

T = TypeVar("T")
QueryParams = httpx.QueryParams | Mapping[str, Any] | None

# Longer than the second up to which the gateway repeats a read answered 503 at once: a
# service that is down is not asked again straight away by every caller in the chain.
RETRY_AFTER_SECONDS = 5
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "request_id"})
_log = get_logger("inds.service_client")


class UpstreamError(ProblemError):
    """A call to another service failed; rendered as this service's own problem."""

    status, type, title = 502, "bad-gateway", "Bad gateway"

    def __init__(self, service: str, detail: str, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.service = service


class ServiceUnavailable(UpstreamError):
    status, type, title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, service: str, *, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(
            service,
            f"The {service} service is unavailable; try again.",
            headers={"Retry-After": str(retry_after)},
        )


class UpstreamTimeout(UpstreamError):
    status, type, title = 504, "gateway-timeout", "Gateway timeout"

    def __init__(self, service: str) -> None:
        super().__init__(service, f"The {service} service did not answer in time.")


class BadGateway(UpstreamError):
    def __init__(self, service: str) -> None:
        super().__init__(service, f"The {service} service gave no valid answer.")


class UpstreamProblem(UpstreamError):
    """The other service refused the request (a 4xx) with this problem."""

    def __init__(
        self,
        service: str,
        *,
        upstream_status: int,
        upstream_type: str = "about:blank",
        upstream_title: str | None = None,
        upstream_detail: str | None = None,
        upstream_extensions: Mapping[str, Any] | None = None,
    ) -> None:
        reason = _reason(upstream_status)
        super().__init__(
            service, f"The {service} service refused the request ({upstream_status} {reason})."
        )
        self.upstream_status = upstream_status
        self.upstream_type = upstream_type
        self.upstream_title = upstream_title or reason
        self.upstream_detail = upstream_detail
        # Members beyond the standard ones (`errors` of a 422, `existing_id` of a 409...).
        self.upstream_extensions = dict(upstream_extensions or {})

    @classmethod
    def from_response(cls, service: str, response: httpx.Response) -> UpstreamProblem:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            body = {}
        type_, title, detail = body.get("type"), body.get("title"), body.get("detail")
        return cls(
            service,
            upstream_status=response.status_code,
            upstream_type=type_ if isinstance(type_, str) else "about:blank",
            upstream_title=title if isinstance(title, str) else None,
            upstream_detail=detail if isinstance(detail, str) else None,
            upstream_extensions={k: v for k, v in body.items() if k not in _STANDARD_MEMBERS},
        )


class ServiceClient:
    """Typed calls to one other service; `service` names it in messages ("beneficiaries").

    `model` is whatever pydantic validates: a model class, or `list[Model]` and the like.
    Paths are used as given: build those holding values with `url_path`.
    """

    def __init__(
        self, http: httpx.AsyncClient, service: str, *, max_line_bytes: int = 1024 * 1024
    ) -> None:
        self.http = http
        self.service = service
        self.max_line_bytes = max_line_bytes

    async def get(self, path: str, model: type[T], *, params: QueryParams = None) -> T:
        response = await self._send("GET", path, params=params)
        return self._validated(response, model)

    async def get_or_none(
        self, path: str, model: type[T], *, params: QueryParams = None
    ) -> T | None:
        """None when the other service answers 404."""
        response = await self._send("GET", path, params=params)
        if response.status_code == HTTPStatus.NOT_FOUND:
            return None
        return self._validated(response, model)

    async def post(
        self,
        path: str,
        body: BaseModel | Mapping[str, Any],
        model: type[T],
        *,
        idempotency_key: str | None = None,
    ) -> T:
        """`body` is sent as JSON (a model by its aliases). POSTs are never retried here:
        with an `idempotency_key`, the caller may repeat one safely."""
        headers = {"Content-Type": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        content = to_json(body, by_alias=True)
        response = await self._send("POST", path, content=content, headers=headers)
        return self._validated(response, model)

    async def stream_lines(
        self, path: str, model: type[T], *, params: QueryParams = None
    ) -> AsyncIterator[T]:
        """A JSON Lines answer, one validated item per line, in constant memory. A failure
        part-way raises after the items already given. Close the iterator when leaving
        early (`contextlib.aclosing`) to free the connection at once."""
        adapter = _adapter(model)
        with self._failures("GET", path):
            async with self.http.stream("GET", path, params=params) as response:
                if response.is_client_error:
                    await response.aread()  # a problem: small
                self._check(response)
                async with aclosing(self._lines(response)) as lines:
                    async for line in lines:
                        try:
                            item = adapter.validate_json(line)
                        except ValidationError as exc:
                            raise self._invalid(response, model, exc) from None
                        yield item

    async def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        with self._failures(method, path):
            return await self.http.request(method, path, **options)

    @contextmanager
    def _failures(self, method: str, path: str) -> Iterator[None]:
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            self._log_failure(method, path, error=type(exc).__name__)
            raise ServiceUnavailable(self.service) from exc
        except httpx.TimeoutException as exc:  # reading or sending took too long
            self._log_failure(method, path, error=type(exc).__name__)
            raise UpstreamTimeout(self.service) from exc
        except httpx.RequestError as exc:  # the connection broke, the answer was cut short
            self._log_failure(method, path, error=type(exc).__name__)
            raise BadGateway(self.service) from exc

    def _check(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        if response.is_client_error:
            raise UpstreamProblem.from_response(self.service, response)
        request = response.request
        self._log_failure(request.method, request.url.path, upstream_status=response.status_code)
        if response.status_code == HTTPStatus.SERVICE_UNAVAILABLE:
            # The other service asks to be retried (its database dropped a connection...).
            wait = response.headers.get("Retry-After", "")
            raise ServiceUnavailable(
                self.service, retry_after=int(wait) if wait.isdigit() else RETRY_AFTER_SECONDS
            )
        raise BadGateway(self.service)

    def _validated(self, response: httpx.Response, model: type[T]) -> T:
        self._check(response)
        try:
            return _adapter(model).validate_json(response.content)
        except ValidationError as exc:
            raise self._invalid(response, model, exc) from None

    async def _lines(self, response: httpx.Response) -> AsyncGenerator[bytes, None]:
        # Split on b"\n" only: httpx's `aiter_lines` also splits on U+2028 and other
        # characters JSON strings may hold as they are.
        buffer = bytearray()
        async for chunk in response.aiter_bytes():
            scanned = len(buffer)
            buffer += chunk
            start = 0
            while (end := buffer.find(b"\n", scanned)) != -1:
                if line := bytes(buffer[start:end]).strip():
                    yield line
                start = scanned = end + 1
            del buffer[:start]
            if len(buffer) > self.max_line_bytes:
                self._log_failure(
                    response.request.method,
                    response.request.url.path,
                    error=f"a line longer than {self.max_line_bytes} bytes",
                )
                raise BadGateway(self.service)
        if line := bytes(buffer).strip():
            yield line

    def _invalid(
        self, response: httpx.Response, model: type[Any], exc: ValidationError
    ) -> BadGateway:
        # Where and why only: the values themselves may be personal data.
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        _log.error(
            "service answer does not match its model",
            service=self.service,
            method=response.request.method,
            path=response.request.url.path,
            model=getattr(model, "__name__", None) if isinstance(model, type) else str(model),
            error_count=len(errors),
            errors=[
                {"path": ".".join(str(part) for part in error["loc"]), "type": error["type"]}
                for error in errors[:5]
            ],
        )
        return BadGateway(self.service)

    def _log_failure(self, method: str, path: str, **fields: Any) -> None:
        # The path only: a query string may hold a name or an identifier.
        _log.warning(
            "service call failed",
            service=self.service,
            method=method,
            path=httpx.URL(path).path,
            **fields,
        )


def url_path(template: str, **segments: object) -> str:
    """`template` with each `{name}` replaced by its value as exactly one path segment:
    `url_path("/api/v1/beneficiaries/programmes/{code}", code=code)`. A value holding `/`,
    `?` or `#`, or made of dots, cannot reach another route."""
    return template.format_map({name: _segment(str(value)) for name, value in segments.items()})


def _segment(value: str) -> str:
    if not value:
        raise ValueError("a path segment cannot be empty")
    quoted = quote(value, safe="")
    if quoted in (".", ".."):  # a step along the path, not a name (RFC 3986 §5.2.4)
        quoted = quoted.replace(".", "%2E")
    return quoted


def _adapter(model: type[T]) -> TypeAdapter[T]:
    # Building an adapter costs far more than a validation: one per model.
    adapter: TypeAdapter[T] = _cached_adapter(cast(Hashable, model))
    return adapter


@lru_cache(maxsize=256)
def _cached_adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
