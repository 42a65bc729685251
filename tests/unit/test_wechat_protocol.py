"""WeChat protocol pieces: crypto (published test vector), XML parsing, replies, 5-second dispatch, API client."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.wechat.api import CustomerServiceClient, WeChatApiError
from connectors.wechat.crypto import MessageCrypto, WeChatCryptoError, aes_key, signature, signature_matches
from connectors.wechat.dispatch import TurnDispatcher
from connectors.wechat.messages import MalformedMessage, encrypted_payload, parse_message
from connectors.wechat.replies import numbered_options, split_text, text_reply
from tests.fakes.wechat_api import FakeWeChatApi

TOKEN, AES_KEY, APP_ID = "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
VECTOR = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="


@pytest.fixture()
def crypto():
    return MessageCrypto(TOKEN, AES_KEY, APP_ID)


def test_published_vector_signature_and_plaintext(crypto):
    assert crypto.sign("1411443780", "437374425", VECTOR) == "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    assert crypto.decrypt(VECTOR) == "5927782489442352469"


def test_vector_is_refused_by_another_app_id():
    with pytest.raises(WeChatCryptoError, match="AppID"):
        MessageCrypto(TOKEN, AES_KEY, "wx0000000000000000").decrypt(VECTOR)


def test_wrong_key_or_garbage_is_refused(crypto):
    other = MessageCrypto(TOKEN, "A" * 43, APP_ID)
    for bad in (other.encrypt("<xml/>"), "not base64!!", "QUJD"):
        with pytest.raises(WeChatCryptoError):
            crypto.decrypt(bad)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.text(max_size=500))
def test_encrypt_decrypt_round_trip(text):
    crypto = MessageCrypto(TOKEN, AES_KEY, APP_ID)
    encrypted = crypto.encrypt(text)
    assert crypto.decrypt(encrypted) == text
    assert len(__import__("base64").b64decode(encrypted)) % 32 == 0  # PKCS#7 to 32-byte blocks


def test_url_signature_is_order_independent_and_checked():
    assert signature("b", "a", "c") == signature("c", "b", "a")
    good = signature(TOKEN, "1", "2")
    assert signature_matches(good, TOKEN, "1", "2") and signature_matches(good.upper(), TOKEN, "1", "2")
    assert not signature_matches(good, TOKEN, "1", "3") and not signature_matches("", TOKEN, "1", "2")


def test_malformed_encoding_aes_key_says_where_to_find_it():
    with pytest.raises(ValueError, match="43-character"):
        aes_key("short")


TEXT = ("<xml><ToUserName><![CDATA[gh_bank]]></ToUserName><FromUserName><![CDATA[o_user]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[信用卡账单]]></Content><MsgId>1234567890</MsgId></xml>")


def test_text_voice_and_event_messages_parse():
    msg = parse_message(TEXT)
    assert (msg.from_user, msg.msg_type, msg.content, msg.dedup_key) == ("o_user", "text", "信用卡账单",
                                                                         "msg:1234567890")
    voice = parse_message(TEXT.replace("text", "voice").replace("<Content>", "<Recognition>")
                          .replace("</Content>", "</Recognition>"))
    assert voice.recognition == "信用卡账单"
    event = parse_message("<xml><ToUserName>gh</ToUserName><FromUserName>o_user</FromUserName>"
                          "<CreateTime>1700000001</CreateTime><MsgType>event</MsgType><Event>CLICK</Event>"
                          "<EventKey>BALANCE</EventKey></xml>")
    assert (event.event, event.event_key, event.dedup_key) == ("click", "BALANCE", "evt:o_user:1700000001:click")


@pytest.mark.parametrize("body", [
    "", "not xml", "<html></html>", "<xml><MsgType>text</MsgType></xml>",
    TEXT.replace("<CreateTime>1700000000", "<CreateTime>soon"),
    TEXT.replace("[text]", "[hologram]"),
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml>&b;</xml>',
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>',
    "<xml>" + "x" * 70_000 + "</xml>",
])
def test_malformed_hostile_or_huge_bodies_are_refused(body):
    with pytest.raises(MalformedMessage):
        parse_message(body)


def test_safe_mode_envelope_needs_encrypt():
    assert encrypted_payload(f"<xml><ToUserName>gh</ToUserName><Encrypt>{VECTOR}</Encrypt></xml>") == VECTOR
    with pytest.raises(MalformedMessage):
        encrypted_payload("<xml><ToUserName>gh</ToUserName></xml>")


def test_reply_xml_escapes_and_parses_back():
    reply = text_reply("o_user", "gh_bank", "a < b & 余额")
    parsed = parse_message(reply)
    assert (parsed.to_user, parsed.content) == ("o_user", "a < b & 余额")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from("余额ab\n 😀"), max_size=3000), st.integers(min_value=8, max_value=600))
def test_split_text_respects_the_byte_limit_and_keeps_content(text, limit):
    chunks = split_text(text, limit)
    assert all(0 < len(c.encode("utf-8")) <= limit for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())  # no visible character lost


def test_buttons_become_numbered_options():
    expected = "选哪张卡？\n1. 尾号6688\n2. 尾号4872\n请回复数字选择。"
    assert numbered_options("选哪张卡？", ["尾号6688", "尾号4872"]) == expected


def test_dispatcher_runs_each_message_once_and_goes_async_when_slow():
    delivered = []

    async def deliver(openid, texts):
        delivered.append((openid, texts))

    async def scenario():
        dispatcher = TurnDispatcher(deliver, passive_timeout_s=0.2)
        calls = []

        async def quick():
            calls.append("quick")
            return ["快"]

        async def slow():
            calls.append("slow")
            await asyncio.sleep(0.4)
            return ["慢", "第二条"]

        assert await dispatcher.dispatch("msg:1", "o1", quick) == ["快"]
        assert await dispatcher.dispatch("msg:1", "o1", quick) == []  # WeChat's retry
        assert await dispatcher.dispatch("msg:2", "o1", slow) == []
        await asyncio.sleep(0.5)
        await asyncio.gather(*dispatcher.stats.pending)
        return calls, dispatcher.stats

    calls, stats = asyncio.run(scenario())
    assert calls == ["quick", "slow"]
    assert delivered == [("o1", ["慢", "第二条"])]
    assert (stats.turns, stats.passive, stats.asynchronous, stats.duplicates) == (2, 1, 1, 1)


def test_dispatcher_apologises_when_the_turn_fails():
    async def boom():
        raise RuntimeError("rasa down")

    async def nothing(*_):
        return None

    assert asyncio.run(TurnDispatcher(nothing).dispatch("msg:9", "o", boom)) == ["抱歉，系统暂时繁忙，请稍后再试。"]


@pytest.fixture()
def fake_api():
    api = FakeWeChatApi(app_id=APP_ID, app_secret="s3cret").start()
    yield api
    api.stop()


def test_client_caches_the_token_and_refreshes_it_when_rejected(fake_api):
    client = CustomerServiceClient(fake_api.base_url, APP_ID, "s3cret")

    async def scenario():
        assert await client.send_text("o1", "一")
        assert await client.send_text("o1", "二")
        fake_api._current_token = "rotated-by-wechat"  # our cached token is now invalid (40001)
        assert await client.send_text("o1", "三")

    asyncio.run(scenario())
    assert fake_api.texts_to("o1") == ["一", "二", "三"]
    assert fake_api.tokens_issued == 2


def test_client_drops_messages_when_the_service_window_is_closed(fake_api):
    client = CustomerServiceClient(fake_api.base_url, APP_ID, "s3cret")
    fake_api.fail_next = [45015]
    assert asyncio.run(client.send_text("o1", "迟到的回复")) is False
    assert fake_api.texts_to("o1") == []


def test_client_raises_on_a_wrong_app_secret(fake_api):
    client = CustomerServiceClient(fake_api.base_url, APP_ID, "wrong")
    with pytest.raises(WeChatApiError, match="40013"):
        asyncio.run(client.send_text("o1", "x"))
