"""All runtime configuration, read from environment variables with documented defaults.

Kept free of Rasa imports so every process (Rasa server, action server, CLIs,
tests) can read it cheaply. README's "Configuration" table mirrors this file.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be a number") from None


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} must be an integer") from None


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in allowed:
        raise ValueError(f"environment variable {name}={value!r} must be one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    encoder_path: Path
    index_dir: Path
    content_dir: Path
    rasa_model_dir: Path
    query_prefix: str
    passage_prefix: str
    kb_reload_interval_s: float
    rasa_port: int
    action_port: int
    tracker_db_path: Path
    secrets_dir: Path
    bank_db_url: str

    @property
    def rasa_api_token(self) -> str:
        """Guards Rasa's HTTP API (trackers hold customers' conversations)."""
        return configured_secret("RASA_API_TOKEN", self.secrets_dir, "rasa_api.token")

    @property
    def action_endpoint_url(self) -> str:
        return os.environ.get("ACTION_ENDPOINT_URL") or f"http://localhost:{self.action_port}/webhook"


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
    return Settings(
        models_dir=models,
        encoder_path=_path("KB_ENCODER_PATH", models / "encoder" / "multilingual-e5-small"),
        index_dir=_path("KB_INDEX_DIR", models / "kb_index"),
        content_dir=_path("KB_CONTENT_DIR", REPO_ROOT / "knowledge_base" / "content"),
        rasa_model_dir=_path("RASA_MODEL_DIR", models / "rasa"),
        query_prefix=os.environ.get("KB_QUERY_PREFIX", "query: "),
        passage_prefix=os.environ.get("KB_PASSAGE_PREFIX", "passage: "),
        kb_reload_interval_s=_float("KB_RELOAD_INTERVAL_S", 2.0),
        rasa_port=_int("RASA_PORT", 5005),
        action_port=_int("ACTION_PORT", 5055),
        tracker_db_path=_path("TRACKER_DB_PATH", REPO_ROOT / "var" / "tracker.db"),
        secrets_dir=_path("ASSISTANT_SECRETS_DIR", REPO_ROOT / "var" / "secrets"),
        bank_db_url=os.environ.get("BANK_DB_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'sandbox_bank.db'}",
    )


@dataclass(frozen=True)
class ChannelSettings:
    """The customer-facing channels (connectors/); secrets come only from the environment."""

    connector_db_url: str
    public_base_url: str
    wechat_token: str
    wechat_app_id: str
    wechat_app_secret: str
    wechat_encoding_aes_key: str
    wechat_api_base: str
    wechat_passive_timeout_s: float
    wechat_max_clock_skew_s: int

    @property
    def wechat_configured(self) -> bool:
        return bool(self.wechat_token)

    @property
    def wechat_safe_mode(self) -> bool:
        return bool(self.wechat_encoding_aes_key)


def load_channel_settings() -> ChannelSettings:
    port = _int("RASA_PORT", 5005)
    return ChannelSettings(
        connector_db_url=os.environ.get("CONNECTOR_DB_URL") or f"sqlite:///{REPO_ROOT / 'var' / 'connectors.db'}",
        public_base_url=(os.environ.get("PUBLIC_BASE_URL") or f"http://localhost:{port}").rstrip("/"),
        wechat_token=os.environ.get("WECHAT_TOKEN", "").strip(),
        wechat_app_id=os.environ.get("WECHAT_APP_ID", "").strip(),
        wechat_app_secret=os.environ.get("WECHAT_APP_SECRET", "").strip(),
        wechat_encoding_aes_key=os.environ.get("WECHAT_ENCODING_AES_KEY", "").strip(),
        wechat_api_base=(os.environ.get("WECHAT_API_BASE") or "https://api.weixin.qq.com").rstrip("/"),
        wechat_passive_timeout_s=_float("WECHAT_PASSIVE_TIMEOUT_S", 4.0),
        wechat_max_clock_skew_s=_int("WECHAT_MAX_CLOCK_SKEW_S", 300),
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
        max_active_per_agent=_int("DESK_MAX_ACTIVE_PER_AGENT", 3),
        secrets_dir=base.secrets_dir,
    )
