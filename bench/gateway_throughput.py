"""Gateway overhead: the same request sent straight to a service and through the gateway.

Target (issue 2): through the gateway at least 0.6x the direct throughput, 32 concurrent
clients, these 2 cores shared by the load generator, the gateway, the service and PostgreSQL.

    python -m bench.gateway_throughput [--seconds 10]
"""

from __future__ import annotations

from bench.load import run_load
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target

USES_REGISTRY = False
CONCURRENCY = 32
PATH = "/api/v1/beneficiaries/me"


def run(ctx: Context) -> list[Row]:
    headers = ctx.headers()
    service = ctx.service("beneficiaries")
    clients = ctx.size(CONCURRENCY, 4)
    run_load(
        "warm-up", ctx.gateway, PATH, headers, concurrency=clients, seconds=min(2, ctx.seconds)
    )
    direct = run_load(
        "direct to the service  GET " + PATH,
        service,
        PATH,
        headers,
        concurrency=clients,
        seconds=ctx.seconds,
    )
    proxied = run_load(
        "through the gateway    GET " + PATH,
        ctx.gateway,
        PATH,
        headers,
        concurrency=clients,
        seconds=ctx.seconds,
    )
    print(direct.line())
    print(proxied.line())
    return [
        Row(
            f"GET /me through the gateway, {clients} clients",
            proxied.rps,
            "req/s",
            anchor=direct.rps,
            anchor_label="direct to the service",
            target=Target(">=", 0.6, on="ratio"),
        ),
        Row(
            f"GET /me through the gateway, {clients} clients, p95",
            proxied.p95_ms,
            "ms",
            anchor=direct.p95_ms,
            anchor_label="direct to the service",
        ),
    ]


if __name__ == "__main__":
    scenario_main("gateway_throughput")
