"""Who may call what: every operation the gateway serves, and the roles it lets through.

One table, read four ways: `docs/access.md` is written from it (`inds access-matrix`), the
merged OpenAPI document (`/docs`) says each operation's roles from it, the gateway forwards
the services' public operations without a token by it, and the access tests call every
operation through the gateway as every role and expect what it says (failing on an
operation the gateway serves that is not in it), after checking that each endpoint's role
dependency (`shared.auth.require_roles`) lets through exactly these roles.
A role that passes may still get less than everything: `note` says what limits it further
(a registrar's regions, a partner's agreement, an analyst's withheld small cells).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from shared.auth import ROLES

# No token needed.
PUBLIC: Final = "public"
# Any valid token, whatever its roles.
AUTHENTICATED: Final = "authenticated"
# `Authorization: Bearer $INDS_METRICS_TOKEN` (not an access token; see `shared.metrics`).
METRICS: Final = "metrics"
Open = Literal["public", "authenticated", "metrics"]

REGIONS: Final = "registrar: records in their own regions only"
AGREEMENT: Final = (
    "partner, system: under the partner's active agreement (its fields, programmes, regions "
    "and quota); none, expired or used up: 403 agreement-refused"
)
OWN_ORGANISATION: Final = "partner: its own organisation's records only"
SMALL_CELLS: Final = "analyst: small cells withheld"
NO_PERSONAL_FIELDS: Final = "analyst: no personal or free-text field"
FOUR_EYES: Final = "never the cycle's creator (four eyes); an admin is not an approver"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    allowed: tuple[str, ...] | Open
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def allows(self, role: str) -> bool:
        """Whether a token holding only `role` gets past the role check."""
        if isinstance(self.allowed, str):
            return self.allowed in (PUBLIC, AUTHENTICATED)
        return role in self.allowed


OPERATIONS: tuple[Operation, ...] = (
    # gateway
    Operation("GET", "/health", PUBLIC),
    Operation("GET", "/ready", PUBLIC),
    Operation("GET", "/metrics", METRICS),
    Operation("POST", "/auth/token", PUBLIC),
    Operation("POST", "/auth/revoke", PUBLIC),
    Operation("GET", "/.well-known/jwks.json", PUBLIC),
    Operation(
        "GET",
        "/auth/disabled-accounts",
        ("service",),
        "the services' own tokens: they refuse these accounts' tokens when called directly",
    ),
    Operation("POST", "/api/v1/admin/clients", ("admin",)),
    Operation("GET", "/api/v1/admin/clients", ("admin",)),
    Operation("GET", "/api/v1/admin/clients/{client_id}", ("admin",)),
    Operation("POST", "/api/v1/admin/clients/{client_id}/disable", ("admin",)),
    Operation("POST", "/api/v1/admin/clients/{client_id}/enable", ("admin",)),
    Operation("POST", "/api/v1/admin/clients/{client_id}/rotate-secret", ("admin",)),
    Operation("POST", "/api/v1/admin/users", ("admin",)),
    Operation("GET", "/api/v1/admin/users", ("admin",)),
    Operation("GET", "/api/v1/admin/users/{username}", ("admin",)),
    Operation("POST", "/api/v1/admin/users/{username}/disable", ("admin",)),
    Operation("POST", "/api/v1/admin/users/{username}/enable", ("admin",)),
    Operation("POST", "/api/v1/admin/users/{username}/reset-password", ("admin",)),
    Operation("GET", "/api/v1/admin/keys", ("admin",)),
    Operation("POST", "/api/v1/admin/keys/rotate", ("admin",)),
    Operation("GET", "/openapi.json", PUBLIC),
    Operation("GET", "/docs", PUBLIC),
    Operation("GET", "/redoc", PUBLIC),
    Operation("GET", "/docs/assets/{name}", PUBLIC),
    Operation("GET", "/console", PUBLIC),
    Operation("GET", "/console/", PUBLIC),
    Operation("GET", "/console/{relative:path}", PUBLIC),
    # beneficiaries
    Operation("GET", "/api/v1/beneficiaries/me", AUTHENTICATED),
    Operation("GET", "/api/v1/beneficiaries/admin-areas", AUTHENTICATED),
    Operation("POST", "/api/v1/beneficiaries/admin-areas", ("admin", "data_manager")),
    Operation(
        "POST", "/api/v1/beneficiaries/households", ("admin", "data_manager", "registrar"), REGIONS
    ),
    Operation(
        "GET", "/api/v1/beneficiaries/households", ("admin", "data_manager", "registrar"), REGIONS
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/households/{household_id}",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "PUT",
        "/api/v1/beneficiaries/households/{household_id}",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "PATCH",
        "/api/v1/beneficiaries/households/{household_id}",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/households/{household_id}/members",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/households/{household_id}/members/{individual_id}/leave",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/households/{household_id}/head",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/households/{household_id}/split",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/households/{household_id}/merge",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/households/{household_id}/history",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "GET", "/api/v1/beneficiaries/individuals", ("admin", "data_manager", "registrar"), REGIONS
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/individuals/{individual_id}",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "PATCH",
        "/api/v1/beneficiaries/individuals/{individual_id}",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/dedup/check", ("admin", "data_manager", "registrar"), REGIONS
    ),
    Operation("GET", "/api/v1/beneficiaries/duplicates", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/duplicates/{pair_id}", ("admin", "data_manager")),
    Operation(
        "POST", "/api/v1/beneficiaries/duplicates/{pair_id}/resolve", ("admin", "data_manager")
    ),
    Operation("GET", "/api/v1/beneficiaries/audit", ("admin", "data_manager")),
    Operation(
        "GET",
        "/api/v1/beneficiaries/stats",
        ("admin", "analyst", "data_manager", "registrar", "service"),
        f"{REGIONS}; {SMALL_CELLS}",
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/stats/catalog",
        ("admin", "analyst", "data_manager", "registrar", "service"),
    ),
    Operation("GET", "/api/v1/beneficiaries/pmt-variables", ("admin", "data_manager", "registrar")),
    Operation("POST", "/api/v1/beneficiaries/pmt-formulas", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/pmt-formulas", ("admin", "data_manager", "registrar")),
    Operation(
        "GET",
        "/api/v1/beneficiaries/pmt-formulas/{version}",
        ("admin", "data_manager", "registrar"),
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/pmt-formulas/{version}/activate", ("admin", "data_manager")
    ),
    Operation(
        "GET", "/api/v1/beneficiaries/pmt-jobs/{job_id}", ("admin", "data_manager", "registrar")
    ),
    Operation("POST", "/api/v1/beneficiaries/programmes", ("admin", "data_manager")),
    Operation(
        "GET",
        "/api/v1/beneficiaries/programmes",
        ("admin", "analyst", "data_manager", "registrar", "service"),
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/programmes/{code}",
        ("admin", "analyst", "data_manager", "registrar", "service"),
    ),
    Operation("PATCH", "/api/v1/beneficiaries/programmes/{code}", ("admin", "data_manager")),
    Operation(
        "GET",
        "/api/v1/beneficiaries/programmes/{code}/eligibility/{household_id}",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/programmes/{code}/enrollments",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/programmes/{code}/enrollments",
        ("admin", "data_manager", "service"),
        REGIONS,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/enrollments/{enrollment_id}",
        ("admin", "data_manager", "registrar", "service"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/enrollments/{enrollment_id}/suspend",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/enrollments/{enrollment_id}/resume",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/enrollments/{enrollment_id}/exit",
        ("admin", "data_manager", "registrar"),
        REGIONS,
    ),
    Operation("GET", "/api/v1/beneficiaries/imports/template.csv", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/imports/template.xlsx", ("admin", "data_manager")),
    Operation("POST", "/api/v1/beneficiaries/imports", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/imports", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/imports/{job_id}", ("admin", "data_manager")),
    Operation(
        "GET", "/api/v1/beneficiaries/imports/{job_id}/errors.csv", ("admin", "data_manager")
    ),
    Operation("DELETE", "/api/v1/beneficiaries/imports/{job_id}", ("admin", "data_manager")),
    Operation(
        "GET",
        "/api/v1/beneficiaries/exports/fields",
        ("admin", "analyst", "data_manager", "registrar"),
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/exports/households.{export_format}",
        ("admin", "analyst", "data_manager", "registrar"),
        f"{REGIONS}; {NO_PERSONAL_FIELDS}",
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/exports/individuals.{export_format}",
        ("admin", "analyst", "data_manager", "registrar"),
        f"{REGIONS}; {NO_PERSONAL_FIELDS}",
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/sync/batch", ("admin", "data_manager", "registrar"), REGIONS
    ),
    Operation(
        "GET", "/api/v1/beneficiaries/sync/changes", ("admin", "data_manager", "registrar"), REGIONS
    ),
    Operation("POST", "/api/v1/beneficiaries/agreements", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/agreements", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/agreements/{agreement_id}", ("admin", "data_manager")),
    Operation(
        "PATCH", "/api/v1/beneficiaries/agreements/{agreement_id}", ("admin", "data_manager")
    ),
    Operation(
        "DELETE", "/api/v1/beneficiaries/agreements/{agreement_id}", ("admin", "data_manager")
    ),
    Operation(
        "GET", "/api/v1/beneficiaries/agreements/{agreement_id}/usage", ("admin", "data_manager")
    ),
    Operation("POST", "/api/v1/beneficiaries/pseudonyms/resolve", ("admin", "data_manager")),
    Operation("GET", "/api/v1/beneficiaries/partner/agreement", ("partner", "system"), AGREEMENT),
    Operation(
        "GET",
        "/api/v1/beneficiaries/partner/exports/households.{export_format}",
        ("partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/partner/exports/individuals.{export_format}",
        ("partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/dci/registry/sync/search", ("partner", "system"), AGREEMENT
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/dci/registry/sync/txn/status",
        ("partner", "system"),
        AGREEMENT,
    ),
    Operation("GET", "/api/v1/beneficiaries/dci/.well-known/jwks.json", PUBLIC),
    Operation(
        "POST", "/api/v1/beneficiaries/dci/registry/search", ("partner", "system"), AGREEMENT
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/dci/registry/txn/status", ("partner", "system"), AGREEMENT
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/dci/registry/subscribe", ("partner", "system"), AGREEMENT
    ),
    Operation(
        "POST", "/api/v1/beneficiaries/dci/registry/unsubscribe", ("partner", "system"), AGREEMENT
    ),
    Operation(
        "POST",
        "/api/v1/beneficiaries/matches",
        ("admin", "data_manager", "partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/matches",
        ("admin", "data_manager", "partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/matches/{job_id}",
        ("admin", "data_manager", "partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/matches/{job_id}/report.json",
        ("admin", "data_manager", "partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/matches/{job_id}/report.csv",
        ("admin", "data_manager", "partner", "system"),
        AGREEMENT,
    ),
    Operation(
        "GET",
        "/api/v1/beneficiaries/matches/{job_id}/report.xlsx",
        ("admin", "data_manager", "partner", "system"),
        AGREEMENT,
    ),
    # funding
    Operation("GET", "/api/v1/funding/me", AUTHENTICATED),
    Operation("POST", "/api/v1/funding/organisations", ("admin", "finance_officer")),
    Operation(
        "GET",
        "/api/v1/funding/organisations",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "GET",
        "/api/v1/funding/organisations/{organisation_id}",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "PATCH", "/api/v1/funding/organisations/{organisation_id}", ("admin", "finance_officer")
    ),
    Operation("POST", "/api/v1/funding/projects", ("admin", "finance_officer")),
    Operation(
        "GET",
        "/api/v1/funding/projects",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "GET",
        "/api/v1/funding/projects/{project_id}",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation("PATCH", "/api/v1/funding/projects/{project_id}", ("admin", "finance_officer")),
    Operation("POST", "/api/v1/funding/agreements", ("admin", "finance_officer")),
    Operation(
        "GET",
        "/api/v1/funding/agreements",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "GET",
        "/api/v1/funding/agreements/{agreement_id}",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "GET",
        "/api/v1/funding/agreements/{agreement_id}/balance",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation("PATCH", "/api/v1/funding/agreements/{agreement_id}", ("admin", "finance_officer")),
    Operation("POST", "/api/v1/funding/transactions", ("admin", "finance_officer")),
    Operation(
        "POST",
        "/api/v1/funding/transactions/{transaction_id}/reverse",
        ("admin", "finance_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/transactions",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "GET",
        "/api/v1/funding/transactions/{transaction_id}",
        ("admin", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation("POST", "/api/v1/funding/exchange-rates", ("admin", "finance_officer")),
    Operation("POST", "/api/v1/funding/exchange-rates/upload", ("admin", "finance_officer")),
    Operation(
        "GET",
        "/api/v1/funding/exchange-rates",
        ("admin", "analyst", "finance_approver", "finance_officer", "partner"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/exchange-rates/in-force",
        ("admin", "analyst", "finance_approver", "finance_officer", "partner", "service"),
    ),
    Operation("POST", "/api/v1/funding/payment-cycles", ("admin", "finance_officer")),
    Operation(
        "GET",
        "/api/v1/funding/payment-cycles",
        ("admin", "analyst", "finance_approver", "finance_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/payment-cycles/{cycle_id}",
        ("admin", "analyst", "finance_approver", "finance_officer"),
    ),
    Operation(
        "POST", "/api/v1/funding/payment-cycles/{cycle_id}/build", ("admin", "finance_officer")
    ),
    Operation(
        "POST",
        "/api/v1/funding/payment-cycles/{cycle_id}/approve",
        ("finance_approver",),
        FOUR_EYES,
    ),
    Operation(
        "POST", "/api/v1/funding/payment-cycles/{cycle_id}/send", ("admin", "finance_officer")
    ),
    Operation(
        "POST",
        "/api/v1/funding/payment-cycles/{cycle_id}/cancel",
        ("admin", "finance_approver", "finance_officer"),
    ),
    Operation("POST", "/api/v1/funding/payment-cycles/{cycle_id}/close", ("finance_approver",)),
    Operation(
        "POST", "/api/v1/funding/payment-cycles/{cycle_id}/reconciliation", ("finance_approver",)
    ),
    Operation(
        "GET",
        "/api/v1/funding/payment-cycles/{cycle_id}/payment-file.{file_format}",
        ("admin", "finance_approver", "finance_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/payment-cycles/{cycle_id}/lines",
        ("admin", "finance_approver", "finance_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/payment-cycles/{cycle_id}/summary",
        ("admin", "analyst", "finance_approver", "finance_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/reports/funding",
        ("admin", "analyst", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation(
        "GET",
        "/api/v1/funding/stats",
        ("admin", "analyst", "finance_approver", "finance_officer", "service"),
        SMALL_CELLS,
    ),
    Operation(
        "GET",
        "/api/v1/funding/stats/catalog",
        ("admin", "analyst", "finance_approver", "finance_officer", "service"),
    ),
    Operation(
        "GET",
        "/api/v1/funding/iati/activities.xml",
        ("admin", "analyst", "finance_approver", "finance_officer", "partner"),
        OWN_ORGANISATION,
    ),
    Operation("GET", "/api/v1/funding/audit", ("admin", "finance_approver", "finance_officer")),
    # indicators
    Operation("GET", "/api/v1/indicators/me", AUTHENTICATED),
    Operation(
        "GET", "/api/v1/indicators/catalog", ("admin", "analyst", "data_manager", "me_officer")
    ),
    Operation("POST", "/api/v1/indicators/frameworks", ("admin", "me_officer")),
    Operation(
        "GET", "/api/v1/indicators/frameworks", ("admin", "analyst", "data_manager", "me_officer")
    ),
    Operation(
        "GET",
        "/api/v1/indicators/frameworks/{code}",
        ("admin", "analyst", "data_manager", "me_officer"),
        "analyst: values from small cells withheld",
    ),
    Operation("PATCH", "/api/v1/indicators/frameworks/{code}", ("admin", "me_officer")),
    Operation("POST", "/api/v1/indicators/frameworks/{code}/axes", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/axes/{axis_id}",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation("PATCH", "/api/v1/indicators/axes/{axis_id}", ("admin", "me_officer")),
    Operation("POST", "/api/v1/indicators/axes/{axis_id}/objectives", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/objectives/{objective_id}",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation("PATCH", "/api/v1/indicators/objectives/{objective_id}", ("admin", "me_officer")),
    Operation("POST", "/api/v1/indicators/definitions/standard-pack", ("admin", "me_officer")),
    Operation("POST", "/api/v1/indicators/definitions", ("admin", "me_officer")),
    Operation(
        "GET", "/api/v1/indicators/definitions", ("admin", "analyst", "data_manager", "me_officer")
    ),
    Operation(
        "GET",
        "/api/v1/indicators/definitions/{code}",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation("PATCH", "/api/v1/indicators/definitions/{code}", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/definitions/{code}/versions",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/indicators/definitions/{code}/versions/{version}",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation("POST", "/api/v1/indicators/reference/population", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/reference/population/uploads",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/indicators/reference/population",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation("POST", "/api/v1/indicators/reference/poverty-lines", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/reference/poverty-lines",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/indicators/reference/poverty-lines/{line_id}",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation(
        "PATCH", "/api/v1/indicators/reference/poverty-lines/{line_id}", ("admin", "me_officer")
    ),
    Operation("POST", "/api/v1/indicators/plans", ("admin", "me_officer")),
    Operation(
        "GET", "/api/v1/indicators/plans", ("admin", "analyst", "data_manager", "me_officer")
    ),
    Operation(
        "GET", "/api/v1/indicators/plans/{code}", ("admin", "analyst", "data_manager", "me_officer")
    ),
    Operation("PATCH", "/api/v1/indicators/plans/{code}", ("admin", "me_officer")),
    Operation("POST", "/api/v1/indicators/plans/{code}/actions", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/plans/{code}/actions/{action_code}",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation(
        "PATCH", "/api/v1/indicators/plans/{code}/actions/{action_code}", ("admin", "me_officer")
    ),
    Operation(
        "GET",
        "/api/v1/indicators/plans/{code}/execution",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation(
        "GET",
        "/api/v1/indicators/definitions/{code}/targets",
        ("admin", "analyst", "data_manager", "me_officer"),
    ),
    Operation("PUT", "/api/v1/indicators/definitions/{code}/targets", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/values",
        ("admin", "analyst", "data_manager", "me_officer"),
        "analyst: values from small cells withheld",
    ),
    Operation("POST", "/api/v1/indicators/snapshots", ("admin", "me_officer")),
    Operation(
        "GET",
        "/api/v1/indicators/snapshots",
        ("admin", "analyst", "data_manager", "me_officer", "partner"),
        "partner: published snapshots only; analyst, partner: values from small cells withheld",
    ),
    Operation(
        "GET",
        "/api/v1/indicators/snapshots/latest",
        ("admin", "analyst", "data_manager", "me_officer", "partner"),
        "partner: published snapshots only; analyst, partner: values from small cells withheld",
    ),
    Operation(
        "GET",
        "/api/v1/indicators/snapshots/{snapshot_id}",
        ("admin", "analyst", "data_manager", "me_officer", "partner"),
        "partner: published snapshots only; analyst, partner: values from small cells withheld",
    ),
    Operation(
        "GET",
        "/api/v1/indicators/snapshots/{snapshot_id}/values",
        ("admin", "analyst", "data_manager", "me_officer", "partner"),
        "partner: published snapshots only; analyst, partner: values from small cells withheld",
    ),
    Operation(
        "GET",
        "/api/v1/indicators/snapshots/{snapshot_id}/values.csv",
        ("admin", "analyst", "data_manager", "me_officer", "partner"),
        "partner: published snapshots only; analyst, partner: values from small cells withheld",
    ),
    Operation(
        "POST", "/api/v1/indicators/snapshots/{snapshot_id}/publish", ("admin", "me_officer")
    ),
)

BY_KEY: dict[tuple[str, str], Operation] = {operation.key: operation for operation in OPERATIONS}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + "$")


# The services' operations that need no token: the gateway forwards them without one.
_PUBLIC_UPSTREAM = [
    (operation.method, _pattern(operation.path))
    for operation in OPERATIONS
    if operation.allowed == PUBLIC and operation.path.startswith("/api/v1/")
]


def is_public(method: str, path: str) -> bool:
    """Whether `method path` (a real path, not a template) is an operation that needs no
    token (HEAD as its GET)."""
    method = "GET" if method == "HEAD" else method
    return any(m == method and pattern.match(path) for m, pattern in _PUBLIC_UPSTREAM)


def _check() -> None:
    if len(BY_KEY) != len(OPERATIONS):
        raise ValueError("an operation is in the access table twice")
    for operation in OPERATIONS:
        if not isinstance(operation.allowed, str) and set(operation.allowed) - set(ROLES):
            raise ValueError(f"unknown role in the access table: {operation}")


_check()
