"""Settings from the environment (pydantic-settings) behind a cached ``get_settings()``.

Embedded defaults: a SQLite file and an anvil node started by the service, both under
``AGRITRACE_DATA_DIR`` (``./var``).  Scale out with ``DATABASE_URL`` (PostgreSQL) and
``CHAIN_RPC_URL`` (an external permissioned EVM network) plus an encrypted keystore.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGRITRACE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "AGRITRACE_DATABASE_URL")
    )
    chain_rpc_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CHAIN_RPC_URL", "AGRITRACE_CHAIN_RPC_URL")
    )
    chain_enabled: bool = True
    chain_id: int = 31337
    contract_address: str | None = None
    anchor_keystore_path: Path | None = None
    anchor_key_password: SecretStr | None = None
    anchor_private_key: SecretStr | None = None  # for throwaway dev chains only; prefer the keystore
    public_base_url: str = "http://127.0.0.1:8000"
    label_secret: SecretStr | None = None  # HMAC key of serial tokens on labels
    master_key: SecretStr | None = None  # Fernet key encrypting device secrets at rest
    attachments_dir: Path | None = None  # default: <data_dir>/attachments
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    idempotency_ttl_h: float = Field(default=168, gt=0, le=24 * 90)  # how long a write's Idempotency-Key is kept
    import_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)  # an uploaded diary spreadsheet (.xlsx)
    import_max_rows: int = Field(default=2000, ge=1, le=100_000)  # rows of one diary spreadsheet
    scan_photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)  # a photo of a barcode (workspace diary)
    banned_substances: str = Field(
        default="paraquat;2,4-D;glyphosate;carbofuran;chlorpyrifos ethyl;endosulfan;methamidophos;trichlorfon",
        description="semicolon-separated active ingredients refused in diary entries (Vietnam's banned list)",
    )
    mqtt_url: str | None = None  # e.g. mqtt://127.0.0.1:1883 or mqtts://user:pw@host:8883; <prefix>/sensors/<id>/...
    mqtt_ca_file: Path | None = None  # CA bundle that signed the broker's certificate (mqtts://); default: system CAs
    # topics <prefix>/sensors/<id>/readings, shared subscription group: one service's workers split the messages;
    # two services on one broker need different prefixes (and groups)
    mqtt_topic_prefix: str = Field(default="agritrace", max_length=100, pattern=r"^[^+#$/]([^+#]*[^+#/])?$")
    mqtt_group: str = Field(default="agritrace", max_length=100, pattern=r"^[^+#/]+$")
    mqtt_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)  # larger messages are refused unread
    sensor_max_age_days: float = Field(default=30, gt=0)  # readings older than this are rejected
    sensor_max_ahead_s: int = Field(default=600, ge=0)  # readings further ahead of the server clock are rejected
    host: str = "127.0.0.1"
    port: int = 8000

    anchor_worker: bool = True
    anchor_max_delay_s: float = Field(default=0.3, ge=0, le=3600)  # a waiting event's longest wait for company
    anchor_poll_s: float = Field(default=0.1, gt=0, le=60)  # the worker looks for waiting events this often
    anchor_interval_s: float = Field(default=5.0, gt=0)  # wait after a failed pass (base of the chain back-off)
    anchor_batch_max: int = Field(default=10_000, ge=1, le=1_000_000)
    anchor_confirmations: int = Field(default=1, ge=1, le=100)
    anchor_rpc_timeout_s: float = Field(default=30.0, gt=0)
    anchor_reconcile_s: float = Field(default=30.0, gt=0)  # how often anchored roots are checked on chain

    clock_skew_s: int = Field(default=300, ge=0)
    consumer_page_cache_s: float = Field(default=2.0, ge=0, le=60)  # pages served unchecked for this long
    consumer_view_cache: bool = True  # then kept until a write changes the data (one check query per request)
    max_events_per_document: int = Field(default=5_000, ge=1)
    capture_group_commit_ms: float = Field(
        default=2.0, ge=0, le=100, description="single-event capture: wait at most this long for concurrent "
        "requests to share one transaction (group commit); 0 stores each request in its own transaction",
    )  # fmt: skip
    time_zone: str = Field(default="Asia/Ho_Chi_Minh", description="IANA zone of events the service writes itself")
    json_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # any JSON request body (413 beyond)
    json_max_depth: int = Field(default=32, ge=4, le=200)  # nesting of any JSON request body (422)
    event_max_depth: int = Field(default=16, ge=4, le=100)  # nesting inside one EPCIS event, at capture (422)
    rate_limit_enabled: bool = True
    rate_public: str = "120/minute"  # per client: resolver, consumer pages, embed, badge, oEmbed, proof bundles
    rate_auth_failures: str = "20/minute"  # per client: 401 answers; then requests with credentials get 429
    rate_storage_url: str = "memory://"  # any storage of the `limits` library, e.g. redis://host:6379
    event_max_bytes: int = Field(default=256 * 1024, ge=1024)  # one EPCIS event as compact JSON, at capture (422)
    require_signatures: bool = False  # capture refuses unsigned events of organisations without a custodial key
    signing_key_password: SecretStr | None = None  # encrypts custodial signing keys (embedded chain: generated)
    signing_cache_s: float = Field(default=5.0, ge=0, le=300)  # capture's view of the key registry mirror
    signing_trust_anchors: Path | None = None  # PEM file of CA certificates that may attest signing keys (X.509)

    @field_validator("rate_public", "rate_auth_failures")
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse

        try:
            parse(v)
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a rate such as 120/minute") from exc
        return v

    webhook_allow_private: bool = False  # EPCIS subscriptions may POST to private/loopback hosts (SSRF guard off)
    metrics_token: SecretStr | None = None  # /metrics: loopback only when unset; this bearer token when set
    log_json: bool = True  # agritrace serve: JSON log lines with the request id (false: plain text)
    subscription_poll_s: float = Field(default=2.0, gt=0, le=3600)  # EPCIS subscriptions: look for new events
    # EPCIS WebSockets open at once per organisation in a process: each is one more query per poll
    epcis_streams_per_org: int = Field(default=20, ge=1, le=10_000)
    # sensor alerts (issue 17): the watcher reads new readings against place/device thresholds
    alert_poll_s: float = Field(default=30.0, gt=0, le=3600)
    recall_notify_poll_s: float = Field(default=10.0, gt=0, le=3600)  # recall notices due are looked for this often
    recall_retry_s: float = Field(default=30.0, gt=0, le=3600)  # first wait before a failed recall notice is retried
    smtp_host: str | None = None  # alert e-mails go out through this SMTP server when set
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "agritrace@localhost"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True  # STARTTLS before logging in (turn off only for a local relay)
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    workspace_session_hours: float = Field(default=12, gt=0, le=24 * 90)  # a workspace sign-in lasts this long
    workspace_lockout_failures: int = Field(default=5, ge=1, le=100)  # wrong passwords in a row before lock-out
    workspace_lockout_minutes: float = Field(default=15, gt=0, le=24 * 60)  # how long a locked sign-in stays locked
    workspace_invite_hours: float = Field(default=72, gt=0, le=24 * 30)  # an invitation link expires after this
    workspace_map_tiles: str = Field(default="", max_length=300, pattern=r"^(https://[^\s'\"<>]+)?$")  # map tiles
    workspace_map_attribution: str = Field(default="", max_length=300)  # credit line the tile provider requires
    console_cache: bool = True  # console figures kept until the data's stamp changes (one check query per request)
    console_cache_stale_s: float = Field(default=30.0, ge=0, le=3600)  # then served while recomputed, if this fresh
    # open data (docs/open-data.md): public DCAT-AP catalogue of aggregated datasets under /opendata
    opendata_license: str = Field(
        default="https://creativecommons.org/licenses/by/4.0/", max_length=300, pattern=r"^https?://[^\s'\"<>]+$"
    )  # the licence URI every dataset is published under (CC BY 4.0 by default)
    opendata_publisher: str = Field(default="AgriTrace", min_length=1, max_length=200)  # dct:publisher's name
    opendata_interval_h: float = Field(default=24, ge=0, le=24 * 31)  # rebuild this often (0: only on demand)
    opendata_geometry: bool = False  # planting areas carry their GeoJSON geometry (off: code, commune, area, crop)
    opendata_keep_files: int = Field(default=30, ge=1, le=10_000)  # versions of each file kept downloadable
    fsma_refresh_s: float = Field(default=30, ge=0, le=24 * 3600)  # FSMA 204 rows rebuilt this often (0: on export)

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, v: str | None) -> str | None:
        if v and not v.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts:// (TLS)")
        return v

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Ho_Chi_Minh)") from exc
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def banned(self) -> frozenset[str]:
        return frozenset(x.strip().lower() for x in self.banned_substances.split(";") if x.strip())

    @property
    def attachment_path(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'agritrace.db').as_posix()}"

    @property
    def keystore_path(self) -> Path:
        return self.anchor_keystore_path or self.data_dir / "keys" / "anchor-keystore.json"

    @property
    def embedded_chain(self) -> bool:
        return self.chain_enabled and not self.chain_rpc_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
