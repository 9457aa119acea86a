"""Who may do what with the results framework.

- me_officer (and admin): frameworks, indicator definitions, targets and reference data;
- analyst and data_manager: read everything here;
- partner: published snapshots only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_roles

EDITORS = ("admin", "me_officer")
READERS = (*EDITORS, "analyst", "data_manager")

Editor = Annotated[Principal, Depends(require_roles(*EDITORS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
SNAPSHOT_READERS = (*READERS, "partner")
SnapshotReader = Annotated[Principal, Depends(require_roles(*SNAPSHOT_READERS))]


def reads_unpublished(principal: Principal) -> bool:
    """Partners read published snapshots only."""
    return principal.has_any_role(READERS)


# Who sees values computed from small cells in full: those who may see the registry's
# exact counts. Analysts and partners get them without their figures.
EXACT_READERS = ("admin", "me_officer", "data_manager")


def sees_small_cells(principal: Principal) -> bool:
    return principal.has_any_role(EXACT_READERS)
