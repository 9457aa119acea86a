from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.gateway.tokens.sealing import SETTING as KEY_ENCRYPTION_SETTING
from services.gateway.tokens.sealing import parse_keys
from shared.settings import ServiceSettings


class BootstrapClient(BaseModel):
    """An API client the gateway makes sure exists, with this secret, at every start."""

    client_id: str
    secret: SecretStr
    roles: list[str]
    regions: list[str] = []
    partner_id: str | None = None
    name: str | None = None


class CallerRateLimit(BaseModel):
    """A caller's own allowance: `per_second` on average, up to `burst` at once."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="INDS_GATEWAY_", extra="ignore", validate_by_name=True
    )

    service_name: str = "gateway"
    port: int | None = 8000

    bootstrap_admin_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "INDS_BOOTSTRAP_ADMIN_SECRET", "INDS_GATEWAY_BOOTSTRAP_ADMIN_SECRET"
        ),
    )
    # JSON list: the services' own identities (role `service`) and, for demos, one per role.
    bootstrap_clients: list[BootstrapClient] = []

    token_ttl_seconds: int = 900
    # A person's sign-in (password grant) also gets a refresh token: each lives this long
    # from its issue, so a device that syncs at least this often never asks for the password
    # again — until the chain ends `refresh_token_max_days` after the password was typed.
    refresh_token_days: float = Field(default=3.0, gt=0)
    refresh_token_max_days: float = Field(default=30.0, gt=0)
    signing_algorithm: str = "EdDSA"
    # How often a gateway re-reads the signing keys another replica may have rotated.
    key_refresh_seconds: float = 30.0
    # Fernet key(s) encrypting the private signing keys in the database (comma-separated: the
    # first encrypts, any decrypts). Required in production; `inds up` makes one for
    # development in its data folder.
    key_encryption_key: SecretStr | None = None
    # How often a gateway re-reads which accounts are disabled: at most this long after an
    # account is disabled, every gateway process refuses its access tokens.
    revocation_refresh_seconds: float = Field(default=2.0, gt=0)

    # Failed token requests: after `login_max_failures` in a row for one account (or
    # `login_address_max_failures` from one client address, whatever the accounts), it is
    # refused for `login_lockout_seconds`, doubled at each further failure up to
    # `login_lockout_max_seconds` — the most an attacker can lock a real person out for per
    # wrong guess. Failures older than `login_failure_window_seconds` are forgotten; a
    # success forgets the account's.
    login_max_failures: int = Field(default=5, ge=1)
    login_address_max_failures: int = Field(default=20, ge=1)
    login_lockout_seconds: float = Field(default=30.0, gt=0)
    login_lockout_max_seconds: float = Field(default=900.0, gt=0)
    login_failure_window_seconds: float = Field(default=3600.0, gt=0)

    # How long an admin call waits for the registry (checking region codes).
    registry_timeout: float = 5.0

    # Requests per caller (a token's subject, or a client address without one), counted
    # across every gateway process: this many a second on average, up to the burst at once.
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # JSON object: callers with an allowance of their own, by subject
    # (`{"client:partner-x": {"per_second": 5, "burst": 20}}`).
    rate_limit_callers: dict[str, CallerRateLimit] = {}
    body_limits: dict[str, int] = {
        "/api/v1/beneficiaries/imports": 512 * 1024 * 1024,
        # Partner lists to match (the registry's own limit is 64 MiB, with the envelope).
        "/api/v1/beneficiaries/matches": 65 * 1024 * 1024,
    }
    upstream_connect_timeout: float = 2.0
    upstream_timeout: float = 30.0
    # Per path prefix: how long the gateway waits for a service to start answering and
    # between two chunks of its answer (exports stream for long, but never stall).
    route_timeouts: dict[str, float] = {}
    upstream_retries: int = 2
    upstream_max_connections: int = 512
    health_timeout: float = 2.0

    cors_origins: list[str] = []

    @field_validator("signing_algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ("EdDSA", "RS256"):
            raise ValueError("signing_algorithm must be EdDSA or RS256")
        return value

    @field_validator("key_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            parse_keys(value.get_secret_value())
            return value
        return None

    @model_validator(mode="after")
    def _keys_encrypted_in_production(self) -> GatewaySettings:
        if self.common.is_production and self.key_encryption_key is None:
            raise ValueError(
                f"{KEY_ENCRYPTION_SETTING} must be set in production: it encrypts the "
                "gateway's signing keys in the database"
            )
        return self

    @model_validator(mode="after")
    def _lockouts_are_bounded(self) -> GatewaySettings:
        if self.login_lockout_max_seconds < self.login_lockout_seconds:
            raise ValueError("login_lockout_max_seconds must be at least login_lockout_seconds")
        if self.login_failure_window_seconds < self.login_lockout_max_seconds:
            # Otherwise failures would be forgotten while locked, and every lock-out would
            # start again from the shortest.
            raise ValueError(
                "login_failure_window_seconds must be at least login_lockout_max_seconds"
            )
        if self.refresh_token_max_days < self.refresh_token_days:
            raise ValueError("refresh_token_max_days must be at least refresh_token_days")
        return self

    def upstreams(self) -> dict[str, str]:
        return {
            "beneficiaries": self.common.beneficiaries_url,
            "funding": self.common.funding_url,
            "indicators": self.common.indicators_url,
        }


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
