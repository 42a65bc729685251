"""WeChat as a demo customer sees it: a throwaway official account for the run, and a follower
whose messages are pushed the way WeChat's servers push them (signed and AES-encrypted)."""
from __future__ import annotations

import base64
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from bot.demo_traffic.customers import QUIET_S
from bot.demo_traffic.errors import DemoError
from bot.demo_traffic.http_json import TURN_TIMEOUT_S, post_json
from bot.demo_traffic.replies import Reply, wechat_reply


@dataclass(frozen=True)
class WeChatAccount:
    """A throwaway official account for one demo run: random secrets, nobody else knows them."""

    token: str
    app_id: str
    app_secret: str
    aes_key: str
    account_id: str = "gh_shili_demo"

    @classmethod
    def generate(cls) -> "WeChatAccount":
        """Fresh random secrets (a valid 43-character EncodingAESKey), new on every run."""
        return cls(token=secrets.token_urlsafe(24), app_id="wx" + secrets.token_hex(8),
                   app_secret=secrets.token_hex(16),
                   aes_key=base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("="))

    def server_env(self, api_base: str) -> Dict[str, str]:
        """What the assistant's WeChat channel reads (credentials.yml and bot/settings.py)."""
        return {"WECHAT_TOKEN": self.token, "WECHAT_APP_ID": self.app_id, "WECHAT_APP_SECRET": self.app_secret,
                "WECHAT_ENCODING_AES_KEY": self.aes_key, "WECHAT_ACCOUNT_ID": self.account_id,
                "WECHAT_API_BASE": api_base, "WECHAT_ALLOW_PLAIN_MODE": "0"}


class WeChatCustomer:
    """WeChat's servers pushing one follower's messages: signed and AES-encrypted as in safe mode.
    Replies come back passively (in the HTTP answer) or, for a slow turn and for agent messages,
    through the customer-service message API, which is the fake API server here."""

    channel = "wechat"
    hears_desk = True

    def __init__(self, base_url: str, account: WeChatAccount, api: Any) -> None:
        from wechatpy.crypto import WeChatCrypto

        from tests.fakes.wechat_client import WeChatPusher

        self.base_url = base_url
        self.account = account
        self.api = api  # tests.fakes.wechat_api.FakeWeChatApi: records what the assistant sends
        # wechatpy signs, encrypts and reads the replies, as WeChat's side (tests/fakes/wechat_client.py)
        self.pusher = WeChatPusher(f"{base_url}/webhooks/wechat/webhook", account.token,
                                   WeChatCrypto(account.token, account.aes_key, account.app_id))
        self.openid = "o" + secrets.token_urlsafe(20)[:27]
        self.bound = False

    def _push(self, text: str) -> Optional[str]:
        """The follower's text as one signed, encrypted push; the passive reply's text, or None for "success"."""
        import requests

        from tests.fakes.wechat_client import text_xml

        xml = text_xml(self.openid, text, str(uuid.uuid4().int % 10**18), to_user=self.account.account_id)
        try:
            response = self.pusher.push(xml)
        except requests.RequestException as exc:
            raise DemoError(f"WeChat push: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise DemoError(f"WeChat webhook answered {response.status_code}: {response.text[:200]}")
        try:
            return self.pusher.reply_text(response)
        except Exception as exc:  # noqa: BLE001 - wechatpy's signature or decryption error
            raise DemoError(f"the passive reply does not verify: {type(exc).__name__}") from None

    def _api_texts(self, after: int, first_within_s: float) -> List[str]:
        """Customer-service messages beyond the first `after`: wait up to `first_within_s` for one,
        then until none has come for QUIET_S / 2 (a long answer arrives in several parts)."""
        deadline = time.monotonic() + first_within_s
        while len(self.api.texts_to(self.openid)) <= after:
            if time.monotonic() >= deadline:
                return []
            time.sleep(0.1)
        seen, quiet_since = len(self.api.texts_to(self.openid)), time.monotonic()
        while time.monotonic() - quiet_since < QUIET_S / 2:
            time.sleep(0.1)
            count = len(self.api.texts_to(self.openid))
            if count != seen:
                seen, quiet_since = count, time.monotonic()
        return self.api.texts_to(self.openid)[after:]

    def say(self, text: str, expect_reply: bool = True) -> Reply:
        before = len(self.api.texts_to(self.openid))
        passive = self._push(text)
        if passive is not None:  # later parts of a long answer follow through the API at once
            return wechat_reply([passive] + self._api_texts(before, 0.5))
        later = self._api_texts(before, TURN_TIMEOUT_S if expect_reply else 0.3)
        if expect_reply and not later:
            raise DemoError(f"no WeChat answer, passive or through the API, within {TURN_TIMEOUT_S:.0f} s")
        return wechat_reply(later)

    def bind(self, customer_token: str) -> None:
        """The binding flow: 绑定 in WeChat gives a link; the bank app previews it and confirms with
        the customer's token (docs/security.md § WeChat)."""
        link = " ".join(self.say("绑定").texts)
        match = re.search(r"ticket=([A-Za-z0-9_.\-]+)", link)
        if not match:
            raise DemoError(f"绑定 gave no binding link: {link[:120]!r}")
        ticket = match.group(1)
        post_json(f"{self.base_url}/webhooks/wechat/bind/preview", {"ticket": ticket})
        post_json(f"{self.base_url}/webhooks/wechat/bind/confirm", {"ticket": ticket},
                  headers={"Authorization": f"Bearer {customer_token}"})
        self.bound = True

    def close(self) -> int:
        """A bound follower unbinds at the end, so no demo binding outlives the demo."""
        if not self.bound:
            return 0
        self.bound = False
        self.say("解绑")
        return 1
