"""What registry endpoints take from the app: settings and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.beneficiaries.config import BeneficiariesSettings
from shared.audit import AuditTrail


async def _settings(request: Request) -> BeneficiariesSettings:
    return request.app.state.settings


async def _audit(request: Request) -> AuditTrail:
    return request.app.state.audit


Settings = Annotated[BeneficiariesSettings, Depends(_settings)]
Audit = Annotated[AuditTrail, Depends(_audit)]
