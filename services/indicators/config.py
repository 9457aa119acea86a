from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IndicatorsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDS_INDICATORS_", extra="ignore")

    service_name: str = "indicators"
    # Writes are audited with the write itself; None: no background flushing (there are no
    # audited reads of personal data here: this service holds none).
    audit_flush_interval: float | None = None
    # How long a call to the registry's or the funding service's /stats may take (seconds).
    stats_timeout: float = 30.0
    # The largest population table accepted (a national table by region, area, sex, age
    # group and legal status for a few years is a few hundred kilobytes).
    upload_max_bytes: int = 8 * 1024 * 1024
    # Counts of people below this are disclosive, unless the registry's /stats/catalog
    # publishes its own threshold.
    small_cell_threshold: int = 5
    # How often queued snapshots are looked for (seconds); None: never (tests run them).
    snapshot_poll_interval: float | None = 2.0


@lru_cache
def get_settings() -> IndicatorsSettings:
    return IndicatorsSettings()
