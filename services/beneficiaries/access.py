"""Who may do what in the registry.

- registrar: read and write households in the regions on their token (all, when none);
- data_manager and admin: the whole registry, eligibility overrides, merges, the audit;
- analyst: aggregate statistics only, never a name or an identifier, with small cells
  withheld (shared/disclosure.py), and exports without personal or free-text fields;
- service (another INDS service): enrollment lists and statistics;
- partner, system, finance roles: nothing here yet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_roles
from shared.errors import Forbidden

MANAGERS = ("admin", "data_manager")
REGISTRY_STAFF = (*MANAGERS, "registrar")

Staff = Annotated[Principal, Depends(require_roles(*REGISTRY_STAFF))]
Manager = Annotated[Principal, Depends(require_roles(*MANAGERS))]
StatsReader = Annotated[Principal, Depends(require_roles(*REGISTRY_STAFF, "analyst", "service"))]
EnrollmentReader = Annotated[Principal, Depends(require_roles(*MANAGERS, "service"))]
# Who reads `/stats` exactly: whoever may read the records themselves, and the INDS services
# (the indicators service computes from exact counts and flags small values itself).
EXACT_STATS_ROLES = (*REGISTRY_STAFF, "service")
ProgrammeReader = Annotated[
    Principal, Depends(require_roles(*REGISTRY_STAFF, "analyst", "service"))
]


def allowed_regions(principal: Principal) -> tuple[str, ...] | None:
    """The regions a caller is limited to, or None for no limit."""
    return principal.regions if principal.is_region_limited else None


def ensure_region(principal: Principal, region_code: str) -> None:
    regions = allowed_regions(principal)
    if regions is not None and region_code not in regions:
        raise Forbidden(f"Your account may not act on records in region {region_code}.")
