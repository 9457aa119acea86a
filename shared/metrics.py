"""Prometheus metrics: request counts and latencies by route template, not by raw path.

Who may read them: `INDS_METRICS_TOKEN` (every service and the gateway read the same
setting). Set, `/metrics` answers only `Authorization: Bearer <that token>` — Prometheus's
`authorization: {credentials_file: ...}` in a scrape config. Unset, `/metrics` is open in
development and test (a laptop's `inds up`) and not served at all in production, so a
deployment that forgets the token exposes nothing.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REQUESTS = Counter(
    "inds_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "inds_http_request_duration_seconds",
    "Time to the end of the response",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe(service: str, method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(service, method, route, str(status)).inc()
    LATENCY.labels(service, method, route).observe(seconds)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


class MetricsSettings(BaseSettings):
    # Empty counts as unset: a compose file's `${INDS_METRICS_TOKEN:-}` must not stop
    # every service at start for a token too short.
    model_config = SettingsConfigDict(
        env_prefix="INDS_METRICS_", extra="ignore", env_ignore_empty=True
    )

    # Long enough that guessing it over HTTP is hopeless: `/metrics` is not rate-limited.
    token: SecretStr | None = Field(default=None, min_length=16)


def token_matches(expected: SecretStr, authorization: str | None) -> bool:
    """Whether `authorization` is `Bearer <expected>`, compared in constant time."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return False
    presented = authorization[7:].strip().encode()
    return hmac.compare_digest(presented, expected.get_secret_value().encode())
