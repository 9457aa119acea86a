"""The Python load generator's own rules (bench/load.py), which the soak relies on: fresh
ids in each request, a call's own headers over the load's, figures per window."""

from __future__ import annotations

import json

from bench.load import Call, _prepared, _request, _windows


def _call(call: Call, headers: dict[str, str]) -> dict:
    return _prepared(
        {"path": call.path, "method": call.method, "body": call.body, "headers": call.headers},
        headers,
    )


def test_each_request_gets_fresh_ids_the_same_name_the_same_id() -> None:
    call = Call(
        "/households/{new:h}",
        "PUT",
        json.dumps({"id": "{new:h}", "member": "{new:m}", "name": "Amina"}),
        {"Idempotency-Key": "{new:key}", "Authorization": "Bearer mine"},
    )
    prepared = _call(call, {"Authorization": "Bearer load", "Accept": "application/json"})
    first, second = _request(prepared), _request(prepared)
    method, path, headers, body = first
    sent = json.loads(body or "")
    assert method == "PUT"
    assert path == f"/households/{sent['id']}"
    assert sent["member"] != sent["id"]
    assert sent["name"] == "Amina"
    assert headers["Authorization"] == "Bearer mine"  # the call's own over the load's
    assert headers["Accept"] == "application/json"
    assert headers["Idempotency-Key"] not in (sent["id"], sent["member"])
    assert second[1] != path and second[2]["Idempotency-Key"] != headers["Idempotency-Key"]


def test_a_call_without_placeholders_is_sent_as_it_is() -> None:
    prepared = _call(Call("/stats?measure=households"), {"Authorization": "Bearer load"})
    assert _request(prepared) == (
        "GET",
        "/stats?measure=households",
        {"Authorization": "Bearer load"},
        None,
    )


def test_windows_count_the_requests_that_started_in_each() -> None:
    timeline = [(0.5, 10.0, False), (1.2, 20.0, True), (1.9, 30.0, False), (2.5, 99.0, False)]
    windows = _windows(timeline, 1.0, 2.0)  # the request 2.5 s in is past the load's end
    assert [(w["start"], w["requests"], w["errors"]) for w in windows] == [(0.0, 1, 0), (1.0, 2, 1)]
    assert windows[1]["p50_ms"] == 25.0
