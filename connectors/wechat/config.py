"""The official account's secrets, from credentials.yml as Rasa's own channels take theirs.

    connectors.wechat.channel.WeChatInput:
      token: ${WECHAT_TOKEN}
      app_id: ${WECHAT_APP_ID}
      app_secret: ${WECHAT_APP_SECRET}
      encoding_aes_key: ${WECHAT_ENCODING_AES_KEY}

Rasa's YAML reader expands ${VAR} (an unset variable stops the server; `python -m bot.serve`
exports an empty default for every variable the file names). The channel never reads the
environment for them itself. Non-secret settings stay in bot/settings.py (ChannelSettings).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

FIELDS = ("token", "app_id", "app_secret", "encoding_aes_key")


@dataclass(frozen=True)
class WeChatSecrets:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""

    @classmethod
    def from_credentials(cls, credentials: Optional[Mapping[str, Any]]) -> "WeChatSecrets":
        credentials = credentials or {}
        values = {}
        for name in FIELDS:
            raw = credentials.get(name)
            value = "" if raw is None else str(raw).strip()
            if value.startswith("${"):  # quoted in the YAML: Rasa expands only plain scalars
                raise ValueError(f"credentials.yml WeChatInput.{name} was not expanded ({value}): "
                                 f"write it unquoted, e.g. `{name}: ${{WECHAT_...}}`")
            values[name] = value
        return cls(**values)

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @property
    def safe_mode(self) -> bool:
        return bool(self.encoding_aes_key)

    def __repr__(self) -> str:  # never print the secrets themselves
        return (f"WeChatSecrets(configured={self.configured}, safe_mode={self.safe_mode}, "
                f"app_id={self.app_id!r})")


def refusal(secrets: WeChatSecrets, allow_plain_mode: bool) -> Optional[str]:
    """Why the channel must not serve messages (503), or None when it may."""
    if not secrets.configured:
        return "WeChat channel not configured: set WECHAT_TOKEN (credentials.yml token)"
    if not secrets.safe_mode and not allow_plain_mode:
        return ("WeChat safe mode required: set WECHAT_ENCODING_AES_KEY (credentials.yml encoding_aes_key); "
                "plain mode only with WECHAT_ALLOW_PLAIN_MODE=1 (test accounts)")
    if secrets.safe_mode and not secrets.app_id:
        return "WeChat safe mode needs WECHAT_APP_ID (credentials.yml app_id)"
    return None
