"""The one settings module of ChainLens.

Every value comes from the environment (prefix ``CHAINLENS_``, except the conventional
``NEO4J_*`` names) or a ``.env`` file; secrets are ``SecretStr`` so that they never reach a
log line by accident. Outside development, default secrets are refused.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHAINLENS_", env_file=".env", extra="ignore", populate_by_name=True
    )

    environment: Environment = Environment.DEVELOPMENT
    state_dir: Path = PROJECT_ROOT / ".chainlens"

    # Neo4j. With NEO4J_URI set, that server (or cluster, through neo4j://) is used and
    # nothing is started locally.
    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI"))
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "NEO4J_USERNAME")
    )
    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD")
    )
    neo4j_database: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE"))
    # How long opening a connection may take, and how long the driver keeps retrying a
    # transaction that failed for a transient reason (a lost connection, a leader switch).
    # The CLI keeps the driver's 30 s. The API lets the driver retry nothing (its ledger
    # writes retry deadlocks themselves, finance.ledger.run_write; the audit trail and the
    # telemetry intake retry on their own) and answers 503; once one request finds the
    # database gone, the others are refused at once until it answers (api/availability.py).
    neo4j_connect_timeout_s: float = Field(default=3.0, gt=0)
    neo4j_retry_s: float = Field(default=30.0, ge=0)
    api_neo4j_retry_s: float = Field(default=0.0, ge=0)
    # How long a request may wait for a connection: taking one from the pool, or opening one,
    # its HELLO included — a server that is starting accepts connections and answers HELLO
    # only once it is ready, which the CLI's 30 s waits out but the API must not (the
    # request answers 503 instead, and the breaker opens).
    neo4j_acquire_timeout_s: float = Field(default=30.0, gt=0)
    # (15 s: on this 2-core machine under four test runs, opening a healthy connection
    # once took over 5 s.)
    api_neo4j_acquire_timeout_s: float = Field(default=15.0, gt=0)

    # The managed local server.
    neo4j_version: str = "5.26.30"
    neo4j_browser_version: str = "5.24.0"
    neo4j_bolt_port: int = 7687
    neo4j_http_port: int = 7474
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "1g"
    neo4j_start_timeout_s: float = 120.0

    # API.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    jwt_secret: SecretStr | None = None
    jwt_ttl_minutes: int = 60 * 8
    graphql_max_depth: int = 10
    # API hardening (docs/api.md): per-operation limits, batching, per-user rate limit, audit.
    graphql_max_tokens: int = 2_000
    graphql_max_aliases: int = 15
    graphql_max_cost: int = 20_000
    # Each user's budget of estimated cost (the same units as graphql_max_cost): a token
    # bucket refilled at this rate, holding at most the burst (never less than one operation
    # at the maximum cost). Past it, 429 with Retry-After. Operations estimated below
    # graphql_cost_budget_from are not charged: the per-request rate limit governs those.
    graphql_cost_per_minute: int = 60_000
    graphql_cost_burst: int = 20_000
    graphql_cost_budget_from: int = 1_000
    graphql_max_batch: int = 10
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 60
    audit_flush_s: float = 2.0
    # Threads for blocking driver calls: anyio's default of 40 is all it takes for 40
    # concurrent requests waiting on Neo4j locks to starve the requests that hold them.
    api_worker_threads: int = Field(default=100, ge=1)
    audit_batch: int = 500
    cors_origins: list[str] = []
    # Security (docs/api.md, "Security"): what one request may carry, login throttling, tokens.
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # 413 beyond
    api_max_json_depth: int = Field(default=32, ge=2)  # nesting of a JSON body; 400 beyond
    graphql_max_string_chars: int = Field(default=2_000, ge=1)  # any string argument
    graphql_max_list_items: int = Field(default=1_000, ge=1)  # any list argument
    # Every read the API makes for a client ends on the server after this many seconds
    # (api/read_timeout.py): the client gets TIMEOUT (504), the others keep their database.
    neo4j_tx_timeout_s: float = Field(default=10.0, gt=0)
    login_per_username_per_minute: int = 10  # failed logins, per (username, client address)
    login_per_username_burst: int = 10
    login_per_address_per_minute: int = 30  # failed logins from one client address
    login_per_address_burst: int = 30
    # Every address together, per username: an attacker rotating addresses meets this cap,
    # while an address that has logged in as the user before still passes.
    login_global_per_username_per_minute: int = 30
    login_global_per_username_burst: int = 50
    login_max_concurrent: int = 4  # password checks (argon2) running at once, process-wide
    # How long a user's token version and status are trusted in process: a change made by this
    # process applies at once, one made by another (the CLI) within this many seconds.
    token_version_cache_s: float = 1.0
    # The API's read cache of enterprise cards (graph/cache.py): a write this process answers
    # empties it at once; one made by another process (the CLI's ingest, a second worker)
    # shows within this many seconds. 0 turns the cache off.
    read_cache_ttl_s: float = Field(default=30.0, ge=0)
    read_cache_entries: int = Field(default=10_000, ge=0)

    # Group commit of the API's ledger writes (finance/batching.py): deposits, withdrawals and
    # drawdowns arriving together share one transaction. The writer takes what is waiting
    # after at most ledger_batch_wait_ms, or at once when ledger_batch_max are waiting; past
    # ledger_batch_queue waiting requests the API answers 503 (nothing written). Off: one
    # transaction per request, as the CLI does.
    ledger_batching: bool = True
    ledger_batch_max: int = Field(default=200, ge=1)
    ledger_batch_wait_ms: float = Field(default=2.0, ge=0)
    ledger_batch_queue: int = Field(default=5_000, ge=1)

    # Credit administration: a line granted, or a limit raised, above this many minor units
    # needs a second approver (`proposeCreditLine`, `decideCreditLineProposal`).
    credit_line_four_eyes_minor: int = 10_000_000_000

    # Sensors: MQTT broker, raw reading store and intake tuning (docs/sensors.md).
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    sensors_dir: Path | None = None  # default: state_dir / "sensors"
    sensors_flush_ms: int = 20  # longest wait before a batch is stored and acknowledged
    sensors_max_batch: int = 20_000
    sensors_dedup_horizon_s: int = 2 * 86_400
    sensors_max_future_s: int = 300
    sensors_replay_s: int = 6 * 3_600
    sensors_http_max_bytes: int = 8 * 1024 * 1024  # POST /api/v1/telemetry body; 413 beyond
    sensors_registry_refresh_s: float = 30.0  # API intake: reload the device registry this often
    sensors_alert_poll_s: float = 1.0  # alertRaised subscription: graph poll interval

    # Documents: contracts rendered to PDF and signed under the project's CA (docs/documents.md).
    signing_dir: Path | None = None  # default: state_dir / "signing" (CA and signer, PEM)
    signing_key_passphrase: SecretStr | None = None  # default: generated into the state folder
    # An uploaded signed contract PDF; 400 beyond (below api_max_body_bytes, the /graphql limit)
    contract_pdf_max_bytes: int = Field(default=768 * 1024, ge=1024)
    # The RFC 3161 time-stamping authority of contract signatures: unset, pyHanko's in-process
    # stamper with the project TSA (a certificate issued by the project CA, in signing_dir/tsa);
    # a deployment's own TSA by URL, with the PEM of the root its certificates chain to.
    contract_tsa_url: str | None = None
    contract_tsa_root: Path | None = None

    log_level: str = "INFO"
    log_json: bool = False

    _secrets: dict[Path, SecretStr] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if self.jwt_secret is None or len(self.jwt_secret.get_secret_value()) < 32:
                raise ValueError(
                    "CHAINLENS_JWT_SECRET of at least 32 characters is required in production"
                )
            if self.neo4j_uri is None:
                raise ValueError(
                    "NEO4J_URI is required in production; the managed server is for development"
                )
        return self

    @property
    def managed_neo4j(self) -> bool:
        """True when ChainLens runs its own Neo4j (no NEO4J_URI given)."""
        return self.neo4j_uri is None

    @property
    def neo4j_home(self) -> Path:
        return self.state_dir / "neo4j"

    def effective_neo4j_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.neo4j_bolt_port}"

    def effective_neo4j_password(self) -> SecretStr:
        """The configured password, else the one generated for the managed server."""
        if self.neo4j_password is not None:
            return self.neo4j_password
        return self._state_secret("neo4j-password")

    def effective_jwt_secret(self) -> SecretStr:
        if self.jwt_secret is not None:
            return self.jwt_secret
        return self._state_secret("jwt-secret")

    def effective_signing_dir(self) -> Path:
        return self.signing_dir or self.state_dir / "signing"

    def effective_signing_passphrase(self) -> SecretStr:
        """The passphrase of the signing keys: configured, else generated into the state folder."""
        if self.signing_key_passphrase is not None:
            return self.signing_key_passphrase
        return self._state_secret("signing-key-passphrase")

    def _state_secret(self, name: str) -> SecretStr:
        """A secret generated into the state folder, read once per settings object: token
        checks run on every request and should not touch the disk each time."""
        # Keyed by path: copies of the settings share the dict but may name another folder.
        path = self.state_dir / name
        if path not in self._secrets:
            self._secrets[path] = SecretStr(read_or_create_secret(path))
        return self._secrets[path]


def read_or_create_secret(path: Path, nbytes: int = 24) -> str:
    """Read a secret from ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    # O_EXCL so that two processes racing here agree on one secret.
    import os

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
