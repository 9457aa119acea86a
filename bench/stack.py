"""A throwaway stack for benchmarks: embedded PostgreSQL in a temporary folder, the real
processes, limits raised so the measurement is of the code, not of the rate limiter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy.engine import make_url

from bench.common import scratch_folder
from inds.stack import Stack, StackOptions, free_port
from shared.settings import database_url_for

BENEFICIARIES = "/api/v1/beneficiaries"
# The PMT formula the registry benchmarks activate, so that households get scored.
FORMULA = {
    "name": "bench",
    "urban": {
        "intercept": 12.1,
        "terms": [
            {"variable": "log_household_size", "coefficient": -0.35},
            {"variable": "rooms_per_person", "coefficient": 0.25},
            {"variable": "asset:refrigerator", "coefficient": 0.3},
            {"variable": "wall_material", "equals": "cement", "coefficient": 0.2},
        ],
    },
    "rural": {
        "intercept": 11.6,
        "terms": [
            {"variable": "log_household_size", "coefficient": -0.3},
            {"variable": "asset:goats", "coefficient": 0.15},
            {"variable": "water_source", "equals": "surface", "coefficient": -0.2},
        ],
    },
}


@contextmanager
def bench_stack(*, demo: bool = False, **extra_env: str) -> Iterator[Stack]:
    """The stack, started (`demo`: with `inds up --demo`'s clients, registry and funding);
    stopped and its folder removed when the block ends (a benchmark stopped with SIGTERM
    included)."""
    env = {
        "INDS_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
        "INDS_GATEWAY_RATE_LIMIT_BURST": "1000000",
        **extra_env,
    }
    with scratch_folder("inds-bench-") as folder:
        options = StackOptions(data_dir=folder, gateway_port=free_port(), demo=demo, extra_env=env)
        stack = Stack(options)
        try:
            stack.start()
            if demo:
                _load_demo(stack)
            yield stack
        finally:
            stack.stop()


def _load_demo(stack: Stack) -> None:
    from inds.demo import load as load_demo
    from inds.demo_funding import load as load_funding_demo

    assert stack.server_url is not None
    load_demo(gateway_url(stack), stack.credentials["admin"], stack.server_url)
    load_funding_demo(gateway_url(stack), stack.credentials)


def gateway_url(stack: Stack) -> str:
    return stack.processes["gateway"].url


def client_headers(stack: Stack, client_id: str, secret: str) -> dict[str, str]:
    """Headers with a fresh token of API client `client_id` (client credentials)."""
    response = httpx.post(
        gateway_url(stack) + "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def auth_headers(stack: Stack) -> dict[str, str]:
    """Headers with a fresh admin token (long benchmarks ask again: tokens expire)."""
    return client_headers(stack, "admin", stack.credentials["admin"])


def activate_formula(stack: Stack, formula: dict = FORMULA) -> None:
    """Create `formula` through the gateway and make it the active PMT formula."""
    with httpx.Client(
        base_url=gateway_url(stack), headers=auth_headers(stack), timeout=60
    ) as client:
        created = client.post(f"{BENEFICIARIES}/pmt-formulas", json=formula)
        created.raise_for_status()
        version = created.json()["version"]
        client.post(f"{BENEFICIARIES}/pmt-formulas/{version}/activate").raise_for_status()


def plain_url(server_url: str, database: str) -> str:
    """asyncpg's URL of `database` on the stack's server."""
    url = make_url(database_url_for(server_url, database)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
