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
