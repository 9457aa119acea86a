"""The registry under test: its settings (the test's key trusted, background workers off:
tests run jobs and flush the audit trail themselves) and tokens for its roles."""

from __future__ import annotations

from services.beneficiaries.config import BeneficiariesSettings
from shared.settings import CommonSettings
from tests.support.tokens import TokenFactory


def registry_settings(tokens: TokenFactory, **overrides: object) -> BeneficiariesSettings:
    common = CommonSettings(environment="test", jwt_public_jwks=tokens.jwks_json)
    overrides.setdefault("audit_flush_interval", None)
    overrides.setdefault("pmt_job_poll_interval", None)
    overrides.setdefault("import_poll_interval", None)
    overrides.setdefault("match_poll_interval", None)
    overrides.setdefault("dci_callback_poll_interval", None)
    overrides.setdefault("dci_retention_poll_interval", None)
    return BeneficiariesSettings(common=common, **overrides)  # type: ignore[arg-type]


def as_role(tokens: TokenFactory, *roles: str, regions: list[str] | None = None) -> dict[str, str]:
    """The Authorization header of a user holding `roles` (in `regions`, when given)."""
    return tokens.bearer(sub=f"user:{roles[0]}", roles=list(roles), regions=regions or [])
