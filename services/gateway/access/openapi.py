"""The access table in the merged OpenAPI document: each operation says who may call it, in
its description (what Swagger UI and ReDoc show at `/docs` and `/redoc`) and as `x-roles`
(for generated clients and tools)."""

from __future__ import annotations

from typing import Any

from services.gateway.access.table import AUTHENTICATED, BY_KEY, PUBLIC, Operation

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def who(operation: Operation) -> str:
    if operation.allowed == PUBLIC:
        said = "anyone, no token needed"
    elif operation.allowed == AUTHENTICATED:
        said = "any valid token, whatever its roles"
    else:
        said = ", ".join(f"`{role}`" for role in operation.allowed)
    return f"**Who may call it**: {said}" + (f" ({operation.note})." if operation.note else ".")


def describe_access(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with each operation of the access table described (in place)."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            entry = BY_KEY.get((method.upper(), path))
            if method not in HTTP_METHODS or entry is None:
                continue
            allowed = entry.allowed
            operation["x-roles"] = [allowed] if isinstance(allowed, str) else list(allowed)
            description = operation.get("description", "")
            operation["description"] = f"{description}\n\n{who(entry)}".strip()
    return document
