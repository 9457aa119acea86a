"""Settings: shared `INDS_*` values plus one class per service with its own prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

Environment = Literal["development", "test", "production"]


class CommonSettings(BaseSettings):
    """Values every process reads from `INDS_*`: where things are and how tokens look."""

    model_config = SettingsConfigDict(env_prefix="INDS_", extra="ignore")

    environment: Environment = "development"
    log_level: str = "INFO"
    # A PostgreSQL server URL; each service uses the database named after it on that server
    # unless its own `INDS_<SERVICE>_DATABASE_URL` is set.
    database_url: str | None = None

    gateway_url: str = "http://127.0.0.1:8000"
    beneficiaries_url: str = "http://127.0.0.1:8001"
    funding_url: str = "http://127.0.0.1:8002"
    indicators_url: str = "http://127.0.0.1:8003"

    jwt_issuer: str = "urn:inds:gateway"
    jwt_audience: str = "inds-api"
    # A JWKS document (JSON) that services trust instead of fetching the gateway's.
    jwt_public_jwks: str | None = None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def jwks_url(self) -> str:
        return self.gateway_url.rstrip("/") + "/.well-known/jwks.json"


class ServiceSettings(BaseSettings):
    """Base for one service's settings: subclasses set `env_prefix="INDS_<SERVICE>_"`."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    # The port `inds up` runs the service on (the next free one when unset).
    port: int | None = None
    database_url: str | None = None
    db_pool_size: int = 30
    # Waiting for a pooled connection costs less than opening one per burst.
    db_max_overflow: int = 0
    max_body_bytes: int = 10 * 1024 * 1024
    # Per path prefix, the longest matching prefix winning: room for bulk uploads.
    body_limits: dict[str, int] = {}
    # The service's own identity when it calls another service through its token.
    client_id: str | None = None
    client_secret: SecretStr | None = None
    # How often the gateway's list of disabled accounts is read again (with the service's
    # token): a disabled account's tokens are refused here within about this many seconds.
    revocation_refresh_seconds: float = Field(default=2.0, gt=0)
    common: CommonSettings = Field(default_factory=CommonSettings)

    @model_validator(mode="after")
    def _derive_database_url(self) -> ServiceSettings:
        if self.database_url is None and self.common.database_url:
            self.database_url = database_url_for(self.common.database_url, self.service_name)
        return self

    def resolved_client_id(self) -> str:
        return self.client_id or f"svc-{self.service_name}"


def database_url_for(server_url: str, database: str) -> str:
    """The URL of `database` on the server `server_url` names, with the asyncpg driver."""
    url = make_url(server_url).set(database=database)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)
