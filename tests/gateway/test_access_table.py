"""The access table is the one account of who may call what: each endpoint's role check
lets through exactly its roles, every operation the gateway serves (and documents) is in
it, and docs/access.md is what it says. The calls themselves, through a running gateway,
are in tests/reliability/test_6_access_matrix.py."""

from __future__ import annotations

from inds.paths import REPO_ROOT
from services.gateway.access.page import render
from services.gateway.access.table import BY_KEY
from tests.support.routes import merged_openapi, openapi_operations, served_operations


def test_every_operation_served_is_in_the_table_with_the_roles_its_endpoint_checks() -> None:
    served = {operation.key: operation.allowed for operation in served_operations()}
    missing = sorted(key for key in served if key not in BY_KEY)
    assert not missing, f"operations served but not in services/gateway/access/table.py: {missing}"
    stale = sorted(key for key in BY_KEY if key not in served)
    assert not stale, f"operations in the access table that nothing serves: {stale}"
    differ = {
        key: {"table": BY_KEY[key].allowed, "endpoint": allowed}
        for key, allowed in served.items()
        if BY_KEY[key].allowed != allowed
    }
    assert not differ, f"the endpoints check other roles than the table says: {differ}"


def test_every_operation_of_the_merged_openapi_document_says_who_may_call_it() -> None:
    documented = openapi_operations(merged_openapi())
    missing = sorted(set(documented) - set(BY_KEY))
    assert not missing, f"documented but not in the access table: {missing}"
    households = documented[("GET", "/api/v1/beneficiaries/households")]
    assert households["x-roles"] == ["admin", "data_manager", "registrar"]
    assert households["description"].endswith(
        "**Who may call it**: `admin`, `data_manager`, `registrar` "
        "(registrar: records in their own regions only)."
    )
    token = documented[("POST", "/auth/token")]
    assert token["x-roles"] == ["public"]


def test_the_access_page_is_the_one_the_table_writes() -> None:
    written = (REPO_ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    assert written == render(), "run `inds access-matrix` and commit docs/access.md"
