from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.disclosure import DEFAULT_THRESHOLD, SuppressionThreshold
from shared.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDS_FUNDING_", extra="ignore")

    service_name: str = "funding"
    # Money changes are written to the audit trail with the change; reads of payees'
    # names and phones in batches this often (seconds); None: only on flush.
    audit_flush_interval: float | None = 0.2
    # How often the payroll builder looks for queued payment cycles (seconds); None: never.
    build_poll_interval: float | None = 1.0
    # Payment lines written per COPY while a payroll is built.
    build_batch_size: int = 5000
    # How long a call to the registry may take (seconds); a payroll streams for longer, each
    # read of its stream waits at most this.
    registry_timeout: float = 30.0
    # The largest provider report or rates file accepted.
    upload_max_bytes: int = 64 * 1024 * 1024
    # `/stats` withholds payment cells below this from callers who may not read payrolls
    # (shared/disclosure.py).
    stats_suppression_threshold: SuppressionThreshold = DEFAULT_THRESHOLD


@lru_cache
def get_settings() -> FundingSettings:
    return FundingSettings()
