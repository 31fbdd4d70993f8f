"""The service's one typed settings object.

It lives in the bottom layer (`db`) so that every layer above can read it;
`agents` never imports it: callers pass it the values it needs.
"""

from __future__ import annotations

import base64
import importlib.util
import ipaddress
import os
import re
import secrets
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", "your-secret-key", "jwt-secret"}
JWT_SECRET_FILE = "jwt_secret"
DOCUMENT_KEY_FILE = "document_key"
DOCUMENT_KEY_BYTES = 32
DOCUMENT_KEY_COMMAND = "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
APP_DIR_NAME = "insurance-navigator"
MIN_METRICS_TOKEN_LENGTH = 16
OPENAI_EXTRA_MESSAGE = ("needs the `openai` extra, which is not installed: pip install 'insurance-navigator[openai]' "
                        "(in a checkout: .venv/bin/pip install -e '.[openai]' -c constraints.txt)")


def checkout_root() -> Path | None:
    """The project checkout this code runs from (a clone, or an editable install of one), else None."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "migrations").is_dir() else None


def default_data_dir() -> Path:
    """Where the embedded database and the generated keys live when NAVIGATOR_DATA_DIR is unset:
    `.data` in the checkout, or the user's data folder for an installed package. Never the
    current folder, so a command run from elsewhere opens the same database."""
    root = checkout_root()
    if root is not None:
        return root / ".data"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / APP_DIR_NAME
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_DIR_NAME


def env_files() -> tuple[Path | str, ...]:
    """`.env` of the checkout, then of the current folder (which wins where both set a key)."""
    root = checkout_root()
    return (root / ".env", ".env") if root is not None else (".env",)


class Settings(BaseSettings):
    """Environment (and `.env`) configuration; field names are the variable names."""

    model_config = SettingsConfigDict(env_file=env_files(), extra="ignore", case_sensitive=False)

    database_url: SecretStr | None = None
    # Unset: `.data` in the checkout, or ~/.local/share/insurance-navigator (see default_data_dir).
    navigator_data_dir: Path | None = None
    db_pool_min_size: int = Field(default=2, ge=0, le=1000)
    db_pool_max_size: int = Field(default=20, ge=1, le=1000)
    # 0 turns asyncpg's prepared-statement cache off: required behind a
    # transaction-mode pooler (PgBouncer, Supabase port 6543).
    db_statement_cache_size: int = Field(default=100, ge=0)
    db_connect_timeout_seconds: float = Field(default=10.0, gt=0)

    # Row-level security (issue 14): the request handlers connect as the restricted service role
    # (`navigator_app`: owns nothing, cannot bypass RLS) with APP_DATABASE_URL, while DATABASE_URL
    # (the tables' owner) serves migrations, run workers, timers, the outbox and admin totals.
    # Embedded mode makes that login itself (password kept in the data dir). Unset with
    # DATABASE_URL: every connection is the owner's and RLS protects nothing (a warning says so).
    app_database_url: SecretStr | None = None

    jwt_secret_key: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "insurance-navigator"
    jwt_audience: str = "insurance-navigator-api"
    access_token_expire_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)
    conversation_ttl_hours: int = Field(default=24, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    llm_provider: Literal["offline", "openai"] = "offline"
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    offline_model_latency_ms: int = Field(default=0, ge=0)

    run_lease_seconds: float = Field(default=30.0, gt=0)
    run_max_attempts: int = Field(default=3, ge=1)

    # Run executors at model latency (issue 9): how many runs a process holds at once, how many
    # model calls it has in flight, and what bounds a database statement or a whole step.
    # A run waiting on its model holds no connection, so WORKER_CONCURRENCY is independent of
    # DB_POOL_MAX_SIZE: steps wait for a pooled connection instead of failing.
    worker_concurrency: int = Field(default=256, ge=1, le=100_000)
    # Calls in flight to a remote (OpenAI-compatible) model per process; the offline model is
    # local code and is not capped.
    model_max_concurrency: int = Field(default=64, ge=1, le=100_000)
    # Client-side timeout of every statement on the pool (asyncpg cancels it on the server).
    db_statement_timeout_seconds: float = Field(default=30.0, gt=0)
    # A step (node and its checkpoint) that takes longer is abandoned and retried like a lost lease.
    run_step_timeout_seconds: float = Field(default=300.0, gt=0)

    # Documents the person uploads (issue 13): size limit, encryption at rest, optional embeddings.
    # DOCUMENT_ENCRYPTION_KEY is 32 bytes in URL-safe base64; generated and kept in the data dir in
    # embedded mode. EMBEDDING_MODEL turns on embeddings (OpenAI-compatible /embeddings) where the
    # server has pgvector; its URL and key default to OPENAI_BASE_URL / OPENAI_API_KEY.
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    document_encryption_key: SecretStr | None = None
    embedding_model: str | None = None
    embedding_base_url: str | None = None
    embedding_api_key: SecretStr | None = None

    # Expiry that deletes (issue 14): every CLEANUP_INTERVAL_SECONDS one worker process deletes the
    # conversations past CONVERSATION_TTL_HOURS with everything of theirs, and purges expired tokens
    # and login windows (db/lifecycle). 0 turns the schedule off (run `navigator cleanup` instead).
    cleanup_interval_seconds: int = Field(default=300, ge=0, le=7 * 24 * 3600)

    # Browser clients (Agent Chat UI, a web app on another origin): the origins allowed to call
    # the API, comma-separated (`https://chat.example.com,http://localhost:3000`); empty: none.
    # `*` alone allows any origin, without credentials.
    cors_origins: str = ""

    # Cases, durable timers and notifications (issue 16). Every worker process polls due timers
    # and the notification outbox; NOTIFY_* shape delivery retries (exponential backoff with
    # jitter, then a dead letter). Email goes out over SMTP only when SMTP_HOST is set. Webhooks
    # to loopback, private or link-local addresses are refused unless
    # WEBHOOK_ALLOW_PRIVATE_NETWORKS is true (local development and tests).
    timer_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    notify_max_attempts: int = Field(default=10, ge=1, le=100)
    notify_backoff_seconds: float = Field(default=30.0, gt=0)
    notify_backoff_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    notify_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    notify_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_allow_private_networks: bool = False
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Insurance Navigator <notifications@localhost>"
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"

    # Account protection and the audit trail (issue 14, part A). TRUSTED_PROXIES: addresses or
    # networks (comma-separated) of reverse proxies whose X-Forwarded-For is believed; empty: none,
    # the connecting peer is the client. The *_ATTEMPTS are the budgets of db/throttle.py's leaky
    # buckets: sign-in attempts per account and address (per 5 minutes), failed sign-ins per
    # address (per 15 minutes) and in total (per 10 minutes), registrations per address and in
    # total (per hour). REGISTRATION_CONFIRMATION: `auto` confirms new accounts by email when
    # SMTP_HOST is set, `email` always (SMTP_HOST required), `off` never. PUBLIC_URL is the address
    # people open (the links in confirmation emails). AUDIT_RETENTION_DAYS: how long security
    # events are kept.
    trusted_proxies: str = ""
    login_account_attempts: int = Field(default=5, ge=1, le=1000)
    login_address_attempts: int = Field(default=30, ge=1, le=1_000_000)
    login_global_attempts: int = Field(default=1000, ge=1, le=100_000_000)
    register_address_attempts: int = Field(default=10, ge=1, le=1_000_000)
    register_global_attempts: int = Field(default=500, ge=1, le=100_000_000)
    registration_confirmation: Literal["auto", "email", "off"] = "auto"
    registration_confirm_hours: int = Field(default=24, ge=1, le=14 * 24)
    public_url: str | None = None
    audit_retention_days: int = Field(default=365, ge=1, le=3650)

    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    # Operations (issue 15): metrics and probes. /metrics on the public port is off unless
    # METRICS_TOKEN is set (then it needs `Authorization: Bearer <token>`); METRICS_PORT opens a
    # private listener on METRICS_HOST with /metrics, /livez and /readyz, for `navigator serve` and
    # `navigator worker` alike. Processes on one machine share their metrics through
    # PROMETHEUS_MULTIPROC_DIR (an empty folder they can all write; wiped when all are stopped).
    metrics_token: SecretStr | None = None
    metrics_port: int | None = Field(default=None, ge=0, lt=65536)
    metrics_host: str = "127.0.0.1"
    prometheus_multiproc_dir: Path | None = None

    _kept_secret: str | None = PrivateAttr(default=None)
    _kept_document_key: bytes | None = PrivateAttr(default=None)

    @field_validator("database_url", "app_database_url", mode="before")
    @classmethod
    def _blank_url_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("database_url", "app_database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_database_url(value.get_secret_value())
        return value

    @field_validator("jwt_secret_key", "document_encryption_key", "embedding_model", "smtp_host", "smtp_username",
                     "smtp_password", "metrics_token", "navigator_data_dir", "prometheus_multiproc_dir",
                     "metrics_port", "public_url", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("jwt_secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @field_validator("document_encryption_key")
    @classmethod
    def _check_document_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_document_key(value.get_secret_value())
        return value

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN_LENGTH} characters")
        return value

    @field_validator("llm_provider", "embedding_model")
    @classmethod
    def _check_openai_extra(cls, value: str | None) -> str | None:
        """The OpenAI-compatible client is an extra: say so at start, not at the first model call."""
        if value is not None and value != "offline" and importlib.util.find_spec("langchain_openai") is None:
            raise ValueError(OPENAI_EXTRA_MESSAGE)
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, value: str) -> str:
        parse_origins(value)
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return parse_origins(self.cors_origins)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return parse_networks(self.trusted_proxies)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be the service's address, such as https://navigator.example.com")
        return value

    @property
    def email_enabled(self) -> bool:
        """Notifications go out by email too (SMTP_HOST is set)."""
        return self.smtp_host is not None

    @property
    def confirms_registration_by_email(self) -> bool:
        return self.registration_confirmation == "email" or (
            self.registration_confirmation == "auto" and self.smtp_host is not None)

    def check_registration_confirmation(self) -> None:
        """ConfigError naming what email confirmation of new accounts lacks, if it is on."""
        if self.registration_confirmation == "email" and self.smtp_host is None:
            raise ConfigError("SMTP_HOST", "is required when REGISTRATION_CONFIRMATION=email")
        if self.confirms_registration_by_email and self.public_url is None:
            raise ConfigError("PUBLIC_URL", "is required when registration confirms by email (SMTP_HOST is set): "
                              "the address people open, such as https://navigator.example.com; or set "
                              "REGISTRATION_CONFIRMATION=off")

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is given and the embedded PostgreSQL serves."""
        return self.database_url is None

    @cached_property
    def data_dir(self) -> Path:
        """NAVIGATOR_DATA_DIR (a relative one is taken from the current folder), else the default."""
        chosen = self.navigator_data_dir if self.navigator_data_dir is not None else default_data_dir()
        return chosen.expanduser().resolve()

    def jwt_secret(self) -> str:
        """The signing key; in embedded mode one is generated once and kept in the data dir."""
        if self.jwt_secret_key is not None:
            return self.jwt_secret_key.get_secret_value()
        if not self.embedded:
            raise ConfigError("JWT_SECRET_KEY", f"is required (at least {MIN_SECRET_LENGTH} characters) "
                              "when DATABASE_URL is set")
        if self._kept_secret is None:  # read once, not on every token check
            self._kept_secret = load_or_create_secret(self.data_dir / JWT_SECRET_FILE)
        return self._kept_secret

    def document_key(self) -> bytes:
        """The AES-256 key of uploaded files; in embedded mode one is generated once and kept in the data dir."""
        if self.document_encryption_key is not None:
            return decode_document_key(self.document_encryption_key.get_secret_value())
        if not self.embedded:
            raise ConfigError("DOCUMENT_ENCRYPTION_KEY", "is required when DATABASE_URL is set; generate one with: "
                              + DOCUMENT_KEY_COMMAND)
        if self._kept_document_key is None:
            path = self.data_dir / DOCUMENT_KEY_FILE
            text = load_or_create_secret(path, generate=new_document_key, key="DOCUMENT_ENCRYPTION_KEY")
            try:
                self._kept_document_key = decode_document_key(text)
            except ValueError as exc:
                raise ConfigError("DOCUMENT_ENCRYPTION_KEY", f"kept in {path} {exc}") from None
        return self._kept_document_key


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and never holds its value."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key} {problem}")
        self.key = key


def check_database_url(url: str) -> None:
    """Reject what asyncpg would misread later, with a reason that never echoes the password."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("must start with postgresql:// (or postgres://)")
    host_in_query = "host" in parse_qs(parts.query)
    if not parts.hostname and not host_in_query:
        raise ValueError("has no host (expected postgresql://user:password@host:port/dbname)")
    if port is not None and not 0 < port < 65536:
        raise ValueError("has a port out of range")


ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def parse_origins(value: str) -> list[str]:
    """`scheme://host[:port]` entries (no path, no trailing slash), or `*` alone."""
    origins = [part.strip() for part in value.split(",") if part.strip()]
    if "*" in origins:
        if len(origins) > 1:
            raise ValueError("'*' allows every origin and cannot be combined with listed origins")
        return origins
    for origin in origins:
        if not ORIGIN.match(origin):
            raise ValueError(f"{origin!r} is not an origin (expected scheme://host[:port], no path)")
    return origins


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or CIDR networks (`10.0.0.0/8, ::1`)."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network (expected 10.0.0.1 or 10.0.0.0/8)") from None
    return networks


def check_secret(secret: str) -> None:
    if secret.strip().lower() in PLACEHOLDER_SECRETS:
        raise ValueError("is a placeholder; generate one with: python -c 'import secrets; "
                         "print(secrets.token_urlsafe(48))'")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters (got {len(secret)})")


def new_document_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(DOCUMENT_KEY_BYTES)).decode()


def decode_document_key(text: str) -> bytes:
    """32 bytes from URL-safe base64 (padding optional); the error never holds the value."""
    cleaned = text.strip()
    try:
        key = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, TypeError):
        raise ValueError("is not URL-safe base64; generate one with: " + DOCUMENT_KEY_COMMAND) from None
    if len(key) != DOCUMENT_KEY_BYTES:
        raise ValueError(f"must decode to {DOCUMENT_KEY_BYTES} bytes (got {len(key)}); generate one with: "
                         + DOCUMENT_KEY_COMMAND)
    return key


def ensure_private_dir(path: Path) -> None:
    """Create the data directory readable by its owner only (0700, whatever the umask).
    An existing directory is left as it is: its owner chose its mode."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return  # another process made it first, with the same mode
    path.chmod(0o700)


def check_private_file(path: Path, key: str) -> None:
    """A kept key that others may read is not a secret any more: refuse it, saying how to fix it."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(key, f"kept in {path} is open to other users (mode {mode:04o}); allow its owner only "
                               f"with: chmod 600 {path}")


def load_or_create_secret(path: Path, *, generate: Callable[[], str] = lambda: secrets.token_urlsafe(48),
                          key: str = "JWT_SECRET_KEY") -> str:
    """Read the kept secret or create it with mode 0600. The file appears
    complete or not at all (written aside, then hard-linked into place), so
    processes starting together agree on one secret. A file with group or
    world bits is refused."""
    ensure_private_dir(path.parent)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate() + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    check_private_file(path, key)
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(key, f"kept in {path} is too short; delete the file to regenerate")
    return secret


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad setting, without echoing values (they may be secrets)."""
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{key} {message}")
    return "; ".join(problems)


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation error into a ConfigError that names the key."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]).upper()
        raise ConfigError(key, describe_validation_error(exc).removeprefix(key + " ")) from None
