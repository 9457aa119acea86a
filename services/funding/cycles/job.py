"""Building payrolls in the background (to be written)."""

from __future__ import annotations

from services.funding.clients.registry import RegistryClient
from services.funding.config import FundingSettings
from shared.audit import AuditTrail
from shared.db import Database


async def run_pending(
    database: Database, settings: FundingSettings, registry: RegistryClient, audit: AuditTrail
) -> int:
    return 0
