from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDS_FUNDING_", extra="ignore")

    service_name: str = "funding"


@lru_cache
def get_settings() -> FundingSettings:
    return FundingSettings()
