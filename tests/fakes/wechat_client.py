"""Plays WeChat's side of the webhook: signs (and in safe mode encrypts) pushes like WeChat does.

The signing, encryption and reply parsing are wechatpy's, a third-party implementation of WeChat's
protocol, so the channel's own crypto (connectors/wechat/crypto.py) is checked against someone else's.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Optional

import requests
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from connectors.wechat.replies import SUCCESS


ACCOUNT = "gh_shili"


def text_xml(openid: str, content: str, msg_id: str, msg_type: str = "text", extra: str = "",
             to_user: str = ACCOUNT) -> str:
    field = "Recognition" if msg_type == "voice" else "Content"
    return (f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
            f"<{field}><![CDATA[{content}]]></{field}><MsgId>{msg_id}</MsgId>{extra}</xml>")


def event_xml(openid: str, event: str, key: str = "", create_time: Optional[int] = None) -> str:
    return (f"<xml><ToUserName>gh_shili</ToUserName><FromUserName>{openid}</FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType>event</MsgType>"
            f"<Event>{event}</Event><EventKey>{key}</EventKey></xml>")


@dataclass
class WeChatPusher:
    url: str
    token: str
    crypto: Optional[WeChatCrypto] = None  # wechatpy's; None: plain mode

    def push(self, xml: str, timestamp: Optional[str] = None, forge: bool = False,
             nonce: Optional[str] = None) -> requests.Response:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**9))
        sender = re.search(r"<FromUserName>(?:<!\[CDATA\[)?([^<\]]*)", xml)
        # WeChat puts the follower's openid into the URL too; the channel must not rely on or log it.
        params = {"timestamp": timestamp, "nonce": nonce, "openid": sender.group(1) if sender else "",
                  "signature": _signature(self.token, timestamp, nonce)}
        body = xml
        if self.crypto:
            envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
            body = f"<xml><ToUserName>gh_shili</ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        if forge:
            params["signature"] = "0" * 40
            params["msg_signature"] = "0" * 40
        return requests.post(self.url, params=params, data=body.encode("utf-8"), timeout=30)

    @staticmethod
    def replay(captured: requests.Response) -> requests.Response:
        """Sends a captured request again, byte for byte (what an attacker on the path could do)."""
        with requests.Session() as session:
            return session.send(captured.request.copy(), timeout=30)

    def reply_text(self, response: requests.Response) -> Optional[str]:
        """The passive reply's text (decrypted and signature-checked in safe mode); None for "success"."""
        response.raise_for_status()
        if response.text == SUCCESS:
            return None
        xml = response.text
        if self.crypto:  # wechatpy checks the reply's signature (InvalidSignatureException) and its app id
            envelope = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        return parse_message(xml).content


def _signature(token: str, timestamp: str, nonce: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature
