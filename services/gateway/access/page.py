"""`docs/access.md`: the access table as a page, one table per part of the API, one column
per role. Written by `inds access-matrix`; a test checks the file is what the table says."""

from __future__ import annotations

from services.gateway.access.table import AUTHENTICATED, METRICS, OPERATIONS, PUBLIC, Operation

# The columns, in the order people look for them.
ROLE_COLUMNS = (
    "admin",
    "data_manager",
    "registrar",
    "analyst",
    "me_officer",
    "finance_officer",
    "finance_approver",
    "partner",
    "system",
    "service",
)
_PARTS = (
    ("Gateway: tokens, accounts, keys, documents", ""),
    ("Registry (beneficiaries)", "/api/v1/beneficiaries/"),
    ("Funding", "/api/v1/funding/"),
    ("Results framework (indicators)", "/api/v1/indicators/"),
)

HEADER = """# Who may call what

Written by `inds access-matrix` from `services/gateway/access/table.py`; do not edit by hand.
The same table is what the access tests expect of every operation through the gateway,
for every role, and each endpoint's role check is compared with it: an operation that is
not in it fails the tests until it is added. The gateway's API document (`/docs`,
`/openapi.json`) says the same of each operation (its description, and `x-roles`).

✓: a token with that role is let through; a blank: 403 `forbidden`. A token that is
missing, expired, signed by a key the gateway never published, unsigned (`alg: none`) or
for another audience is refused with 401 everywhere a token is needed; a disabled client
gets no new token (401 `invalid_client`), and its tokens are refused within seconds.
*Limits* says what a role that is let through still does not get.

Across every operation: a registrar never reads or writes a record outside the regions on
their account; an analyst never receives a name, an identifier, a birth date or a phone;
a partner receives only the fields, programmes, regions and legal statuses of its active
data-sharing agreement.
"""


_OPEN = {
    PUBLIC: "no token needed",
    AUTHENTICATED: "any valid token",
    METRICS: "the metrics token",
}


def _row(operation: Operation) -> str:
    path = operation.path.replace("|", "\\|")
    cells = ["✓" if operation.allows(role) else "" for role in ROLE_COLUMNS]
    limits = [_OPEN[operation.allowed]] if isinstance(operation.allowed, str) else []
    limits += [operation.note] if operation.note else []
    cells = [operation.method, f"`{path}`", *cells, "; ".join(limits)]
    return "| " + " | ".join(cells) + " |"


def render() -> str:
    lines = [HEADER]
    header = ["method", "path", *ROLE_COLUMNS, "limits"]
    for title, prefix in _PARTS:
        rows = [
            _row(operation)
            for operation in OPERATIONS
            if (operation.path.startswith(prefix) if prefix else _is_gateway(operation))
        ]
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + " --- |" * len(header))
        lines += [*rows, ""]
    return "\n".join(lines)


def _is_gateway(operation: Operation) -> bool:
    return not any(prefix and operation.path.startswith(prefix) for _, prefix in _PARTS)
