from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IndicatorsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDS_INDICATORS_", extra="ignore")

    service_name: str = "indicators"


@lru_cache
def get_settings() -> IndicatorsSettings:
    return IndicatorsSettings()
