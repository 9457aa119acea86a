"""Gateway overhead: the same request sent straight to a service and through the gateway.

Target (issue 2): through the gateway at least 0.6x the direct throughput, 32 concurrent
clients, these 2 cores shared by the load generator, the gateway, the service and PostgreSQL.

    python -m bench.gateway_throughput [--seconds 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse

from bench.load import run_load
from bench.stack import auth_headers, bench_stack, gateway_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    with bench_stack() as stack:
        headers = auth_headers(stack)
        service = stack.processes["beneficiaries"].url
        gateway = gateway_url(stack)
        path = "/api/v1/beneficiaries/me"
        run_load("warm-up", gateway, path, headers, concurrency=args.concurrency, seconds=2)
        direct = run_load(
            "direct to the service  GET " + path,
            service,
            path,
            headers,
            concurrency=args.concurrency,
            seconds=args.seconds,
        )
        proxied = run_load(
            "through the gateway    GET " + path,
            gateway,
            path,
            headers,
            concurrency=args.concurrency,
            seconds=args.seconds,
        )
        print(direct.line())
        print(proxied.line())
        print(f"ratio gateway/direct: {proxied.rps / direct.rps:.2f} (target >= 0.6)")


if __name__ == "__main__":
    main()
