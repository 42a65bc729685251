"""All runtime configuration, read from environment variables with documented defaults.

Kept free of Rasa imports so every process (Rasa server, action server, CLIs,
tests) can read it cheaply. README's "Configuration" table mirrors this file.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.config import KBConfig, env_float, env_path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _path(name: str, default: Path) -> Path:
    return env_path(os.environ, name, default)


def _float(name: str, default: float) -> float:
    return env_float(os.environ, name, default)


def env_int(name: str, default: int, low: int | None = None, high: int | None = None) -> int:
    """An integer environment variable; a wrong value names the variable and what it must be."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be an integer") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"environment variable {name}={number} must be between {low} and {high}")
    return number


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in allowed:
        raise ValueError(f"environment variable {name}={value!r} must be one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    encoder_path: Path
    base_encoder_path: Path
    index_dir: Path
    content_dir: Path
    rasa_model_dir: Path
    query_prefix: str
    passage_prefix: str
    kb_reload_interval_s: float
    kb_query_runtime: str
    kb_review_db_url: str
    kb_documents_dir: Path
    rasa_port: int
    action_port: int
    tracker_db_path: Path
    secrets_dir: Path
    bank_db_url: str
    action_host: str = "127.0.0.1"
    session_rollover_turns: int = 20  # 0: never roll a long conversation into a new session
    analytics_timezone: str = "Asia/Shanghai"  # the bank's day, for per-day measures
    analytics_idle_close_s: float = 3600.0  # a conversation idle this long is over (the session expiry)
    analytics_update_s: float = 15.0  # how often the desk's background consumer reads new events
    # False where the consumer runs as its own process (python -m bot.analytics; `make run` starts one),
    # so the serving Rasa process spends no CPU on folding events
    analytics_in_process: bool = True

    @property
    def kb(self) -> KBConfig:
        """The knowledge base's settings, as the library takes them (bot may import knowledge_base)."""
        return KBConfig(encoder_path=self.encoder_path, base_encoder_path=self.base_encoder_path,
                        index_dir=self.index_dir, content_dir=self.content_dir,
                        query_prefix=self.query_prefix, passage_prefix=self.passage_prefix,
                        reload_interval_s=self.kb_reload_interval_s, query_runtime=self.kb_query_runtime,
                        review_db_url=self.kb_review_db_url, documents_dir=self.kb_documents_dir)

    @property
    def rasa_api_token(self) -> str:
        """Guards Rasa's HTTP API (trackers hold customers' conversations)."""
        return configured_secret("RASA_API_TOKEN", self.secrets_dir, "rasa_api.token")

    @property
    def analytics_db_path(self) -> Path:
        """Rasa's SQL event broker table and the analytics tables, beside the tracker store."""
        return self.tracker_db_path.with_name("analytics.db")

    @property
    def analytics_db_url(self) -> str:
        return os.environ.get("ANALYTICS_DB_URL") or f"sqlite:///{self.analytics_db_path}"

    @property
    def action_endpoint_url(self) -> str:
        return os.environ.get("ACTION_ENDPOINT_URL") or f"http://127.0.0.1:{self.action_port}/webhook"


def action_server_secret(secrets_dir: Path) -> str:
    """Shared by the Rasa server (endpoints.yml header) and the action server (bot/action_server.py)."""
    return configured_secret("ACTION_SERVER_SECRET", secrets_dir, "action_server.secret")


def configured_secret(env_var: str, secrets_dir: Path, filename: str) -> str:
    """The secret in `env_var`, or a random one generated once into secrets_dir (never in git)."""
    configured = os.environ.get(env_var, "").strip()
    if configured:
        if len(configured) < 32:
            raise ValueError(f"{env_var} must be at least 32 characters long")
        return configured
    path = secrets_dir / filename
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings() -> Settings:
    models = _path("ASSISTANT_MODELS_DIR", REPO_ROOT / "models")
    kb = KBConfig.from_env()  # the KB_* variables are the knowledge base's own (knowledge_base/config.py)
    return Settings(
        models_dir=models,
        encoder_path=kb.encoder_path,
        base_encoder_path=kb.base_encoder_path,
        index_dir=kb.index_dir,
        content_dir=kb.content_dir,
        rasa_model_dir=_path("RASA_MODEL_DIR", models / "rasa"),
        query_prefix=kb.query_prefix,
        passage_prefix=kb.passage_prefix,
        kb_reload_interval_s=kb.reload_interval_s,
        kb_query_runtime=kb.query_runtime,
        kb_review_db_url=kb.review_db_url,
        kb_documents_dir=kb.documents_dir,
        rasa_port=env_int("RASA_PORT", 5005),
        action_port=env_int("ACTION_PORT", 5055),
        tracker_db_path=_path("TRACKER_DB_PATH", REPO_ROOT / "var" / "tracker.db"),
        secrets_dir=_path("ASSISTANT_SECRETS_DIR", REPO_ROOT / "var" / "secrets"),
        bank_db_url=os.environ.get("BANK_DB_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'sandbox_bank.db'}",
        action_host=os.environ.get("ACTION_HOST", "").strip() or "127.0.0.1",
        session_rollover_turns=env_int("SESSION_ROLLOVER_TURNS", 20, low=0, high=10_000),
        analytics_timezone=os.environ.get("ANALYTICS_TIMEZONE", "").strip() or "Asia/Shanghai",
        analytics_idle_close_s=_float("ANALYTICS_IDLE_CLOSE_S", 3600.0),
        analytics_update_s=_float("ANALYTICS_UPDATE_S", 15.0),
        analytics_in_process=_choice("ANALYTICS_IN_PROCESS", ("1", "0"), "1") == "1",
    )


@dataclass(frozen=True)
class IdentitySettings:
    """How customer tokens are verified (bot/identity.py, docs/security.md)."""

    algorithm: str
    public_key: str
    audience: str
    clock_leeway_s: int
    secrets_dir: Path


def _public_key() -> str:
    inline = os.environ.get("CUSTOMER_TOKEN_PUBLIC_KEY", "").strip()
    path = os.environ.get("CUSTOMER_TOKEN_PUBLIC_KEY_FILE", "").strip()
    if inline:
        return inline.replace("\\n", "\n")
    if path:
        try:
            return Path(path).expanduser().read_text()
        except OSError as exc:
            raise ValueError(f"CUSTOMER_TOKEN_PUBLIC_KEY_FILE={path!r} cannot be read: {exc.strerror}") from None
    return ""


def load_identity_settings() -> IdentitySettings:
    algorithm = _choice("CUSTOMER_TOKEN_ALGORITHM", ("HS256", "RS256", "ES256"), "HS256")
    public_key = _public_key()
    if algorithm != "HS256" and "BEGIN PUBLIC KEY" not in public_key:
        raise ValueError(f"CUSTOMER_TOKEN_ALGORITHM={algorithm} needs the bank app's PEM public key in "
                         "CUSTOMER_TOKEN_PUBLIC_KEY or CUSTOMER_TOKEN_PUBLIC_KEY_FILE")
    return IdentitySettings(
        algorithm=algorithm,
        public_key=public_key,
        audience=os.environ.get("CUSTOMER_TOKEN_AUDIENCE", "").strip() or "shili-bank-assistant",
        clock_leeway_s=env_int("CUSTOMER_TOKEN_LEEWAY_S", 30),
        secrets_dir=_path("ASSISTANT_SECRETS_DIR", REPO_ROOT / "var" / "secrets"),
    )


@dataclass(frozen=True)
class LimitSettings:
    """Abuse limits shared by every channel (connectors/limits.py)."""

    max_message_chars: int
    per_sender_per_minute: float
    per_sender_burst: int
    per_address_per_minute: float
    per_address_burst: int
    trust_forwarded_for: bool


def load_limit_settings() -> LimitSettings:
    return LimitSettings(
        max_message_chars=env_int("MAX_MESSAGE_CHARS", 2000),
        per_sender_per_minute=_float("RATE_PER_SENDER_PER_MIN", 30.0),
        per_sender_burst=env_int("RATE_PER_SENDER_BURST", 10),
        per_address_per_minute=_float("RATE_PER_ADDRESS_PER_MIN", 600.0),
        per_address_burst=env_int("RATE_PER_ADDRESS_BURST", 120),
        trust_forwarded_for=_choice("TRUST_X_FORWARDED_FOR", ("0", "1"), "0") == "1",
    )


@dataclass(frozen=True)
class ChannelSettings:
    """The customer-facing channels (connectors/). Channel secrets (WeChat token, AppSecret,
    EncodingAESKey) are not here: they come from credentials.yml like Rasa's own channels."""

    connector_db_url: str
    public_base_url: str
    wechat_api_base: str
    wechat_passive_timeout_s: float
    wechat_max_clock_skew_s: int
    # The official account's original id (gh_…); when set, messages addressed elsewhere are refused.
    wechat_account_id: str = ""
    # Plain (unencrypted) mode is refused unless this is set explicitly (WECHAT_ALLOW_PLAIN_MODE=1).
    wechat_allow_plain_mode: bool = False
    wechat_binding_ttl_days: float = 180.0
    # Every WeChat push comes from WeChat's few server addresses, so their bucket is sized for the
    # whole account's traffic, not for one client.
    wechat_rate_per_address_per_min: float = 6000.0
    wechat_rate_per_address_burst: int = 600
    # Redis for state every replica must share (socket.io emits between replicas); empty: one process.
    redis_url: str = ""


def load_channel_settings() -> ChannelSettings:
    port = env_int("RASA_PORT", 5005)
    return ChannelSettings(
        connector_db_url=os.environ.get("CONNECTOR_DB_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'connectors.db'}",
        public_base_url=(os.environ.get("PUBLIC_BASE_URL") or f"http://localhost:{port}").rstrip("/"),
        wechat_api_base=(os.environ.get("WECHAT_API_BASE") or "https://api.weixin.qq.com").rstrip("/"),
        wechat_passive_timeout_s=_float("WECHAT_PASSIVE_TIMEOUT_S", 4.0),
        wechat_max_clock_skew_s=env_int("WECHAT_MAX_CLOCK_SKEW_S", 300),
        wechat_account_id=os.environ.get("WECHAT_ACCOUNT_ID", "").strip(),
        wechat_allow_plain_mode=_choice("WECHAT_ALLOW_PLAIN_MODE", ("0", "1"), "0") == "1",
        wechat_binding_ttl_days=_float("WECHAT_BINDING_TTL_DAYS", 180.0),
        wechat_rate_per_address_per_min=_float("WECHAT_RATE_PER_ADDRESS_PER_MIN", 6000.0),
        wechat_rate_per_address_burst=env_int("WECHAT_RATE_PER_ADDRESS_BURST", 600),
        redis_url=os.environ.get("REDIS_URL", "").strip(),
    )


@dataclass(frozen=True)
class WebchatSettings:
    """The web chat channel (connectors/webchat). Its allowed origins come from credentials.yml
    (`cors_allowed_origins: ${WEBCHAT_ALLOWED_ORIGINS}`, see connectors/cors.py)."""

    # An anonymous session id older than this gets a new session (the old one is not resumed).
    anon_session_ttl_s: float
    # New sessions one client address may open (token bucket), so a script cannot fill the store.
    sessions_per_address_per_hour: float
    sessions_per_address_burst: int


def load_webchat_settings() -> WebchatSettings:
    return WebchatSettings(
        anon_session_ttl_s=_float("WEBCHAT_ANON_SESSION_TTL_S", 24 * 3600.0),
        # generous: mobile carriers put many customers behind one address (carrier-grade NAT)
        sessions_per_address_per_hour=_float("WEBCHAT_SESSIONS_PER_ADDRESS_PER_HOUR", 600.0),
        sessions_per_address_burst=env_int("WEBCHAT_SESSIONS_PER_ADDRESS_BURST", 100),
    )


@dataclass(frozen=True)
class DeskSettings:
    """Human handoff (connectors/agent_desk)."""

    desk_url: str
    service_hours: str
    timezone: str
    max_wait_s: float
    avg_handle_s: float
    agent_session_ttl_s: float
    routing: str
    max_active_per_agent: int
    secrets_dir: Path
    socket_recheck_s: float = 30.0
    login_free_failures: int = 5
    login_account_backoff_s: float = 2.0
    login_account_max_backoff_s: float = 300.0
    login_address_backoff_s: float = 30.0
    login_address_max_backoff_s: float = 3600.0

    @property
    def service_token(self) -> str:
        """Shared by the action server and the desk for the internal handoff call."""
        return configured_secret("DESK_SERVICE_TOKEN", self.secrets_dir, "desk_service.token")


def load_desk_settings() -> DeskSettings:
    base = load_settings()
    return DeskSettings(
        desk_url=(os.environ.get("DESK_URL") or f"http://localhost:{base.rasa_port}").rstrip("/"),
        service_hours=os.environ.get("DESK_SERVICE_HOURS", "08:00-22:00"),
        timezone=os.environ.get("DESK_TIMEZONE", "Asia/Shanghai"),
        max_wait_s=_float("DESK_MAX_WAIT_S", 600.0),
        avg_handle_s=_float("DESK_AVG_HANDLE_S", 180.0),
        agent_session_ttl_s=_float("AGENT_SESSION_TTL_S", 8 * 3600.0),
        routing=_choice("DESK_ROUTING", ("accept", "least_busy"), "accept"),
        max_active_per_agent=env_int("DESK_MAX_ACTIVE_PER_AGENT", 3),
        secrets_dir=base.secrets_dir,
        socket_recheck_s=_float("AGENT_SOCKET_RECHECK_S", 30.0),
        login_free_failures=env_int("AGENT_LOGIN_FREE_FAILURES", 5),
        login_account_backoff_s=_float("AGENT_LOGIN_ACCOUNT_BACKOFF_S", 2.0),
        login_account_max_backoff_s=_float("AGENT_LOGIN_ACCOUNT_MAX_BACKOFF_S", 300.0),
        login_address_backoff_s=_float("AGENT_LOGIN_ADDRESS_BACKOFF_S", 30.0),
        login_address_max_backoff_s=_float("AGENT_LOGIN_ADDRESS_MAX_BACKOFF_S", 3600.0),
    )


@dataclass(frozen=True)
class RetentionSettings:
    """How long conversations are kept (bot/retention.py: `python -m bot.retention purge`)."""

    transcript_retention_days: int
    tracker_retention_days: int
    tracker_db_url: str
    connector_db_url: str


def load_retention_settings() -> RetentionSettings:
    transcript_days = env_int("TRANSCRIPT_RETENTION_DAYS", 180)
    tracker_days = env_int("TRACKER_RETENTION_DAYS", 90)
    for name, days in (("TRANSCRIPT_RETENTION_DAYS", transcript_days), ("TRACKER_RETENTION_DAYS", tracker_days)):
        if days < 1:
            raise ValueError(f"environment variable {name}={days} must be at least 1 (days)")
    return RetentionSettings(
        transcript_retention_days=transcript_days,
        tracker_retention_days=tracker_days,
        tracker_db_url=os.environ.get("TRACKER_DB_URL") or f"sqlite:///{load_settings().tracker_db_path}",
        connector_db_url=load_channel_settings().connector_db_url,
    )
