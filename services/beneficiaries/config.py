from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.disclosure import DEFAULT_THRESHOLD, SuppressionThreshold
from shared.settings import ServiceSettings

IMPORTS_PATH = "/api/v1/beneficiaries/imports"
MATCHES_PATH = "/api/v1/beneficiaries/matches"


class BeneficiariesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDS_BENEFICIARIES_", extra="ignore")

    service_name: str = "beneficiaries"
    # Read audit rows are written in batches this often (seconds); None: only on flush.
    audit_flush_interval: float | None = 0.2
    # A pair scoring at least this is flagged as a probable duplicate.
    dedup_threshold: float = 0.7
    # Candidates are looked for this many years either side of the birth year.
    dedup_birth_year_window: int = 2
    # Edges of the PMT bands (predicted consumption, DJF per person per year).
    pmt_band_edges: list[int] = [60_000, 100_000, 150_000, 250_000]
    # `/stats` withholds cells below this from callers without personal-data access
    # (shared/disclosure.py).
    stats_suppression_threshold: SuppressionThreshold = DEFAULT_THRESHOLD
    # How often the PMT recomputation worker looks for queued jobs (seconds); None: never.
    pmt_job_poll_interval: float | None = 2.0
    # Where uploaded import files wait for their job (default: the system's temporary folder).
    import_dir: Path | None = None
    # How often the import worker looks for queued imports (seconds); None: never.
    import_poll_interval: float | None = 1.0
    # The largest import file accepted (the gateway applies its own limit too); the body
    # limit of the upload route follows, with room for the multipart envelope.
    import_max_bytes: int = 512 * 1024 * 1024
    # Partner lists matched against the registry (matches/): the largest file and number
    # of rows accepted, and how often the worker looks for queued lists (None: never).
    match_max_bytes: int = 64 * 1024 * 1024
    match_max_rows: int = 100_000
    match_poll_interval: float | None = 1.0
    # The ministry's secret from which each partner's pseudonym key is derived (with the
    # salt of its agreement): required in production; development and tests use a fixed one.
    pseudonym_secret: SecretStr | None = None
    # The largest DCI page (`pagination.page_size`) and search batch (`search_request[]`).
    dci_max_page_size: int = 100
    dci_max_batch: int = 20
    # How long a DCI search's large total_count (1,000 records or more) is remembered for
    # the next pages of the same search, in seconds (0: every page counts again).
    dci_count_cache_seconds: float = 60.0
    # The registry's id in DCI headers (`receiver_id` of requests, `sender_id` of answers).
    dci_registry_id: str = "registry.inds.gov.dj"
    # The registry's Ed25519 key signing DCI answers: the raw 32-byte private key, base64.
    # Required in production (every replica signs with it); elsewhere a key made at start.
    dci_signing_key: SecretStr | None = None
    # DCI callbacks (answers to asynchronous requests, event notifications) posted from the
    # durable outbox: how often the worker looks for callbacks due (seconds; None: never),
    # how long a partner's receiver may take to acknowledge, and the retries of one that
    # did not: the n-th waits backoff * 2^(n-1) seconds (at most the maximum), and after
    # the last attempt the callback is given up (status failed).
    dci_callback_poll_interval: float | None = 1.0
    dci_callback_timeout: float = 10.0
    dci_callback_max_attempts: int = Field(default=10, ge=1)
    dci_callback_backoff: float = Field(default=5.0, gt=0)
    dci_callback_backoff_max: float = Field(default=3600.0, gt=0)
    # Callbacks done with (delivered, skipped, given up) are deleted this many days after
    # they were queued, and with them what they told a partner (personal data): a
    # `txn/status` for an older transaction then finds nothing. Looked for every
    # `dci_retention_poll_interval` seconds (None: never). Pending callbacks are kept.
    dci_delivery_retention_days: int = Field(default=90, ge=1)
    dci_retention_poll_interval: float | None = 3600.0

    @model_validator(mode="after")
    def _upload_body_limit(self) -> BeneficiariesSettings:
        self.body_limits.setdefault(IMPORTS_PATH, self.import_max_bytes + 1024 * 1024)
        self.body_limits.setdefault(MATCHES_PATH, self.match_max_bytes + 1024 * 1024)
        return self

    @model_validator(mode="after")
    def _pseudonym_secret_in_production(self) -> BeneficiariesSettings:
        if self.pseudonym_secret is None and self.common.is_production:
            raise ValueError("INDS_BENEFICIARIES_PSEUDONYM_SECRET must be set in production")
        if self.dci_signing_key is None and self.common.is_production:
            raise ValueError("INDS_BENEFICIARIES_DCI_SIGNING_KEY must be set in production")
        return self

    def pseudonym_key_material(self) -> bytes:
        if self.pseudonym_secret is not None:
            return self.pseudonym_secret.get_secret_value().encode()
        return b"inds-development-pseudonym-secret"

    def imports_folder(self) -> Path:
        """Where uploads wait (the app creates it when it starts)."""
        return self.import_dir or Path(tempfile.gettempdir()) / "inds-imports"


@lru_cache
def get_settings() -> BeneficiariesSettings:
    return BeneficiariesSettings()
