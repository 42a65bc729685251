"""WeChat protocol pieces: crypto (published test vector), XML parsing, replies, 5-second dispatch, API client."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

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


def test_dispatcher_answers_passively_when_quick_and_goes_async_when_slow():
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

        assert await dispatcher.dispatch("o1", quick) == ["快"]
        assert await dispatcher.dispatch("o1", slow) == []
        await asyncio.sleep(0.5)
        await asyncio.gather(*dispatcher.stats.pending)
        return calls, dispatcher.stats

    calls, stats = asyncio.run(scenario())
    assert calls == ["quick", "slow"]
    assert delivered == [("o1", ["慢", "第二条"])]
    assert (stats.turns, stats.passive, stats.asynchronous) == (2, 1, 1)


def test_dispatcher_apologises_when_the_turn_fails():
    async def boom():
        raise RuntimeError("rasa down")

    async def nothing(*_):
        return None

    assert asyncio.run(TurnDispatcher(nothing).dispatch("o", boom)) == ["抱歉，系统暂时繁忙，请稍后再试。"]


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


def test_replicas_share_one_access_token_instead_of_invalidating_each_others(fake_api, tmp_path):
    from connectors.wechat.store import SharedAccessToken

    engine = create_engine(f"sqlite:///{tmp_path / 'tokens.db'}", future=True)
    first, second = (CustomerServiceClient(fake_api.base_url, APP_ID, "s3cret", SharedAccessToken(APP_ID, engine))
                     for _ in range(2))

    async def scenario():
        assert await first.send_text("o1", "一")
        assert await second.send_text("o1", "二")  # the token the first replica fetched
        fake_api._current_token = "rotated-by-wechat"
        assert await second.send_text("o1", "三")  # rejected: the second replica fetches a new one …
        assert await first.send_text("o1", "四")  # … which the first one uses without fetching again

    asyncio.run(scenario())
    assert fake_api.texts_to("o1") == ["一", "二", "三", "四"]
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


# --- issue 13: identity, safe mode, replay window, bindings, limits ----------------------------------

import dataclasses  # noqa: E402
import time  # noqa: E402

from sqlalchemy import create_engine  # noqa: E402

from bot.identity import IDENTITY_METADATA_KEY, customer_from_user_event, issue_token  # noqa: E402
from bot.settings import LimitSettings, load_channel_settings  # noqa: E402
from connectors.agent_desk.handoff import DeskHub  # noqa: E402
from connectors.agent_desk.store import DeskStore  # noqa: E402
from connectors.limits import ChannelLimits  # noqa: E402
from connectors.wechat.binding import BIND_PURPOSE, BindingFlow  # noqa: E402
from connectors.wechat.channel import RATE_LIMITED_TEXT, WeChatInput  # noqa: E402
from connectors.wechat.config import WeChatSecrets, refusal  # noqa: E402
from connectors.wechat.ids import conversation_id, local_id, mask_openid  # noqa: E402
from connectors.wechat.replay import ReplayGuard, Verdict  # noqa: E402
from connectors.wechat.store import (OTHER, SAME, Bindings, ConversationMap, MessageTurns, OfferedChoices,  # noqa: E402
                                     OnceKeys)
from tests.fakes.wechat_client import WeChatPusher, event_xml, text_xml  # noqa: E402
from tests.fakes.wechat_local import BOT_ANSWER, LocalChannel  # noqa: E402

CUSTOMER_SECRET = "unit-test-customer-secret-" + "u" * 10
SECRETS = WeChatSecrets(TOKEN, APP_ID, "s3cret", AES_KEY)
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@pytest.fixture()
def identity_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", CUSTOMER_SECRET)
    monkeypatch.setenv("ASSISTANT_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://bank.example")
    return tmp_path


@pytest.fixture()
def engine(identity_env):
    return create_engine(f"sqlite:///{identity_env / 'connectors.db'}", future=True)


def test_conversation_ids_are_namespaced_hashes_never_the_openid():
    conv = conversation_id(APP_ID, OPENID)
    assert conv == f"wechat:{local_id(APP_ID, OPENID)}" and len(conv) == len("wechat:") + 32
    assert OPENID not in conv and conv == conversation_id(APP_ID, OPENID)
    assert conv != conversation_id("wx_other_account00", OPENID)  # per official account
    assert mask_openid(OPENID) == "o6_b***fL2M"


def test_secrets_come_from_credentials_and_safe_mode_is_the_default():
    assert WeChatSecrets.from_credentials(None) == WeChatSecrets()
    plain = WeChatSecrets.from_credentials({"token": " t ", "app_id": "wx1", "app_secret": None,
                                            "encoding_aes_key": ""})
    assert (plain.token, plain.app_secret, plain.safe_mode) == ("t", "", False)
    assert "WECHAT_TOKEN" in refusal(WeChatSecrets(), allow_plain_mode=True)
    assert "WECHAT_ENCODING_AES_KEY" in refusal(plain, allow_plain_mode=False)
    assert refusal(plain, allow_plain_mode=True) is None and refusal(SECRETS, allow_plain_mode=False) is None
    assert "s3cret" not in repr(SECRETS) and AES_KEY not in repr(SECRETS)
    with pytest.raises(ValueError, match="unquoted"):
        WeChatSecrets.from_credentials({"token": "${WECHAT_TOKEN}"})


def test_once_keys_are_single_use_until_they_expire_and_survive_a_new_store_object(engine):
    now = [1000.0]
    once = OnceKeys(engine, clock=lambda: now[0])
    assert once.claim("ticket:abc", "used", 1100) is None
    assert once.claim("ticket:abc", "used", 1100) == SAME and once.taken("ticket:abc")
    restarted = OnceKeys(engine, clock=lambda: now[0])  # a restart or another replica
    assert restarted.claim("ticket:abc", "other", 1100) == OTHER
    now[0] = 1101.0
    assert not restarted.taken("ticket:abc") and restarted.claim("ticket:abc", "used", 1200) is None


def test_replay_guard_outlives_the_timestamp_window_and_a_restart(engine):
    now = [10_000.0]
    guard = ReplayGuard(OnceKeys(engine, clock=lambda: now[0]), MessageTurns(engine, clock=lambda: now[0]),
                        window_s=300, clock=lambda: now[0])
    assert guard.ttl_s >= 2 * 300  # a timestamp stays acceptable for up to 2 × window after first sight
    assert guard.check("10000", "n1", "msg:1") is Verdict.NEW
    guard.turns.finish("msg:1", done=True)
    assert guard.check("10000", "n1", "msg:1") is Verdict.RETRY  # byte-for-byte copy
    assert guard.check("10001", "n2", "msg:1") is Verdict.RETRY  # WeChat's retry: new nonce, same MsgId
    assert guard.check("10000", "n1", "msg:2") is Verdict.REPLAY  # captured signature, other body
    now[0] += 599
    after_restart = ReplayGuard(OnceKeys(engine, clock=lambda: now[0]), MessageTurns(engine, clock=lambda: now[0]),
                                window_s=300, clock=lambda: now[0])
    assert after_restart.check("10000", "n1", "msg:1") is Verdict.RETRY
    assert after_restart.check("10000", "n1", "msg:3") is Verdict.REPLAY


def test_a_message_whose_replica_died_mid_turn_is_run_again_by_exactly_one_retry(engine):
    now = [1_000.0]
    clock = lambda: now[0]  # noqa: E731
    first, second, third = (MessageTurns(engine, lease_s=4.0, clock=clock, owner=name) for name in "abc")
    assert first.claim("msg:9", expires_at=2_000) == MessageTurns.NEW
    now[0] += 3
    assert second.claim("msg:9", 2_000) == MessageTurns.RUNNING  # WeChat's retry while the turn runs
    assert first.renew("msg:9")  # the running replica's heartbeat
    now[0] += 3
    assert second.claim("msg:9", 2_000) == MessageTurns.RUNNING  # renewed: still within the lease
    now[0] += 5  # replica "a" was killed: no renewal for longer than the lease
    assert second.claim("msg:9", 2_000) == MessageTurns.RESUMED  # taken over…
    assert third.claim("msg:9", 2_000) == MessageTurns.RUNNING  # …by exactly one retry
    assert not first.renew("msg:9")  # a replica that was only slow learns its claim is gone
    first.finish("msg:9", done=True)  # and cannot mark another replica's run done
    assert third.claim("msg:9", 2_000) == MessageTurns.RUNNING
    second.finish("msg:9", done=True)
    now[0] += 60
    assert third.claim("msg:9", 2_000) == MessageTurns.DONE  # a late copy after the turn: "success"


def test_a_turn_that_failed_is_run_again_by_the_next_retry(engine):
    turns = MessageTurns(engine, owner="a")
    assert turns.claim("msg:10", time.time() + 600) == MessageTurns.NEW
    turns.finish("msg:10", done=False)  # the turn raised: its lease is dropped at once
    assert MessageTurns(engine, owner="b").claim("msg:10", time.time() + 600) == MessageTurns.RESUMED


def test_a_held_turn_keeps_its_claim_while_it_runs_and_is_done_after(engine):
    now = [5_000.0]
    turns = MessageTurns(engine, lease_s=0.2, clock=lambda: now[0], owner="a")
    guard = ReplayGuard(OnceKeys(engine), turns, window_s=300)
    assert guard.check("5000", "n9", "msg:11") is Verdict.NEW

    async def slow_turn() -> list[str]:
        for _ in range(5):  # five lease lengths of work; the clock moves on meanwhile
            await asyncio.sleep(0.1)
            now[0] += 0.1
            assert MessageTurns(engine, lease_s=0.2, clock=lambda: now[0], owner="b").claim(
                "msg:11", 6_000) == MessageTurns.RUNNING
        return ["答复"]

    assert asyncio.run(guard.held("msg:11", slow_turn)()) == ["答复"]
    now[0] += 10
    assert MessageTurns(engine, clock=lambda: now[0], owner="b").claim("msg:11", 6_000) == MessageTurns.DONE


def test_offered_choices_answer_one_message_on_any_replica_and_lapse(engine):
    now = [1000.0]
    shown_by, answered_on = (OfferedChoices(engine, ttl_s=60, clock=lambda: now[0]) for _ in range(2))
    shown_by.offer("wechat:c1", ["/pick{\"n\": 1}", "/pick{\"n\": 2}"])
    assert answered_on.take("wechat:c1") == ["/pick{\"n\": 1}", "/pick{\"n\": 2}"]  # the other replica sees them
    assert answered_on.take("wechat:c1") == []  # a list answers one message only
    shown_by.offer("wechat:c1", ["a"])
    shown_by.offer("wechat:c1", ["b", "c"])  # the newest list replaces the older one
    now[0] += 61
    assert answered_on.take("wechat:c1") == []  # lapsed


def test_bindings_expire_list_and_revoke_per_customer(engine):
    now = [1_000_000.0]
    bindings = Bindings(engine, clock=lambda: now[0])
    first = bindings.bind("o_one", "C001", ttl_s=180 * 86400)
    bindings.bind("o_two", "C001", ttl_s=180 * 86400)
    bindings.bind("o_three", "C002", ttl_s=180 * 86400)
    assert bindings.customer_of("o_one") == "C001"
    assert {b.openid for b in bindings.of_customer("C001")} == {"o_one", "o_two"}
    assert bindings.revoke("C002", first.binding_id) is None  # not C002's binding
    assert bindings.revoke("C001", first.binding_id).openid == "o_one"
    assert bindings.customer_of("o_one") is None
    now[0] += 180 * 86400 + 1
    assert bindings.customer_of("o_two") is None and bindings.of_customer("C001") == []
    assert not bindings.unbind("o_two")  # expired: nothing left to unbind


def _flow(engine, sent):
    conversations = ConversationMap(engine)
    conversations.remember(conversation_id(APP_ID, OPENID), OPENID)
    return BindingFlow(Bindings(engine), conversations, OnceKeys(engine), 180 * 86400, "https://bank.example",
                       lambda openid, text: sent.append((openid, text)))


def test_binding_shows_the_account_needs_the_customer_and_spends_the_ticket_once(engine):
    sent = []
    flow = _flow(engine, sent)
    link = flow.link_text(conversation_id(APP_ID, OPENID))
    ticket = link.split("ticket=", 1)[1].split()[0]
    claims = __import__("jwt").decode(ticket, options={"verify_signature": False})
    assert OPENID not in link and OPENID not in str(claims)
    status, preview = flow.preview(ticket)
    assert status == 200 and preview["wechat_account"] == "o6_b***fL2M" and "确认" in preview["confirm_text"]
    assert flow.preview("forged")[0] == 400
    assert flow.confirm(ticket, "forged")[0] == 401  # a failed login does not burn the ticket
    assert flow.confirm(ticket, issue_token("C001", purpose=BIND_PURPOSE))[0] == 401  # a ticket is no login
    status, bound = flow.confirm(ticket, issue_token("C001"))
    assert status == 200 and bound["bound"] and bound["wechat_account"] == "o6_b***fL2M"
    assert OPENID not in str(bound)
    assert flow.confirm(ticket, issue_token("C001"))[0] == 409  # reused ticket
    assert flow.confirm(ticket, issue_token("C002"))[0] == 409
    assert flow.preview(ticket)[0] == 409
    assert sent and sent[0][0] == OPENID and "您的微信已绑定示例银行账户" in sent[0][1] and "如非本人操作请立即解绑" in sent[0][1]
    status, listed = flow.list(issue_token("C001"))
    assert status == 200 and [b["binding_id"] for b in listed["bindings"]] == [bound["binding_id"]]
    assert flow.list("forged")[0] == 401 and flow.list(issue_token("C002"))[1]["bindings"] == []
    assert flow.revoke(issue_token("C002"), bound["binding_id"])[0] == 404
    assert flow.revoke(issue_token("C001"), bound["binding_id"]) == (200, {"revoked": True,
                                                                           "binding_id": bound["binding_id"]})
    assert flow.list(issue_token("C001"))[1]["bindings"] == [] and "解除" in sent[-1][1]


# --- the channel over real HTTP, in-process (the Rasa agent replaced by a recorder) -------------------

@pytest.fixture()
def local(engine, fake_api):
    started = []

    def make(secrets_=SECRETS, allow_plain=False, account="gh_shili", limits=None, port=0) -> LocalChannel:
        settings = dataclasses.replace(load_channel_settings(), wechat_account_id=account,
                                       wechat_allow_plain_mode=allow_plain, wechat_api_base=fake_api.base_url)
        channel = WeChatInput(secrets_, settings, engine=engine, hub=DeskHub(DeskStore(engine)),
                              limits=limits)
        started.append(LocalChannel(channel).start(port))
        return started[-1]

    yield make
    for server in started:
        server.stop()


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_our_crypto_and_wechatpy_read_each_other(text):
    """Interoperability with a third-party implementation of WeChat's message encryption, both ways."""
    ours, theirs = MessageCrypto(TOKEN, AES_KEY, APP_ID), WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    xml = f"<xml><Content><![CDATA[{text}]]></Content></xml>"
    encrypted = ours.encrypt(xml)
    envelope = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    assert theirs.decrypt_message(envelope, ours.sign("1700000000", "42", encrypted), "1700000000", "42") == xml
    sealed = theirs.encrypt_message(xml, "43", "1700000001")
    assert ours.decrypt(encrypted_payload(sealed)) == xml


def _pusher(server: LocalChannel, crypto=True) -> WeChatPusher:
    return WeChatPusher(f"{server.base_url}/webhook", TOKEN,
                        WeChatCrypto(TOKEN, AES_KEY, APP_ID) if crypto else None)  # wechatpy plays WeChat


def test_plain_mode_is_refused_without_the_explicit_setting(local, caplog):
    plain = WeChatSecrets(TOKEN, APP_ID, "s3cret", "")
    server = local(plain)
    response = _pusher(server, crypto=False).push(text_xml("o_x", "你好", "1"))
    assert response.status_code == 503 and "WECHAT_ENCODING_AES_KEY" in response.text
    assert server.received == [] and "safe mode required" in caplog.text
    allowed = local(plain, allow_plain=True)
    assert _pusher(allowed, crypto=False).reply_text(_pusher(allowed, crypto=False).push(
        text_xml("o_x", "你好", "2"))) == BOT_ANSWER


def test_wrong_to_user_name_is_refused(local):
    server = local()
    pusher = _pusher(server)
    refused = pusher.push(text_xml("o_x", "查余额", "1", to_user="gh_someone_else"))
    assert refused.status_code == 403 and server.received == []
    assert pusher.reply_text(pusher.push(text_xml("o_x", "查余额", "2"))) == BOT_ANSWER


def test_a_captured_request_runs_no_second_turn_even_after_a_restart(local, engine):
    server = local()
    pusher = _pusher(server)
    captured = pusher.push(text_xml(OPENID, "开户需要带什么材料", "77"))
    assert pusher.reply_text(captured) == BOT_ANSWER
    assert WeChatPusher.replay(captured).text == "success"
    assert pusher.push(text_xml(OPENID, "开户需要带什么材料", "77")).text == "success"  # WeChat's retry
    server.stop()
    restarted = local(port=server.port)  # a new process: new channel and dedup store objects, same database
    assert WeChatPusher.replay(captured).text == "success"
    assert server.texts() == ["开户需要带什么材料"] and restarted.received == []


def test_plain_mode_refuses_a_captured_signature_with_another_body(local):
    server = local(WeChatSecrets(TOKEN, APP_ID, "s3cret", ""), allow_plain=True)
    pusher = _pusher(server, crypto=False)
    timestamp = str(int(time.time()))
    assert pusher.push(text_xml(OPENID, "你好", "1"), timestamp=timestamp, nonce="4242").status_code == 200
    forged = pusher.push(text_xml(OPENID, "给我转账", "2"), timestamp=timestamp, nonce="4242")
    assert forged.status_code == 403 and server.texts() == ["你好"]


def test_rate_limit_and_length_limit_answer_politely_without_a_turn(local):
    limits = ChannelLimits.from_settings(LimitSettings(max_message_chars=20, per_sender_per_minute=1.0,
                                                       per_sender_burst=2, per_address_per_minute=600.0,
                                                       per_address_burst=100, trust_forwarded_for=False))
    server = local(limits=limits)
    pusher = _pusher(server)
    too_long = pusher.reply_text(pusher.push(text_xml(OPENID, "长" * 21, "1")))
    assert "太长" in too_long and "20" in too_long
    assert [pusher.reply_text(pusher.push(text_xml(OPENID, f"第{i}条", str(10 + i)))) for i in range(3)] == [
        BOT_ANSWER, BOT_ANSWER, RATE_LIMITED_TEXT]
    assert server.texts() == ["第0条", "第1条"]
    assert pusher.reply_text(pusher.push(text_xml("o_someone_else", "你好", "20"))) == BOT_ANSWER


def test_the_bot_sees_a_hashed_sender_and_a_seal_never_a_token_or_openid(local):
    server = local()
    pusher = _pusher(server)
    pusher.push(text_xml(OPENID, "查余额", "1"))
    server.channel.bindings.bind(OPENID, "C001", ttl_s=3600)
    pusher.push(text_xml(OPENID, "查余额", "2"))
    server.channel.bindings.bind(OPENID, "C001", ttl_s=-1)  # expired binding
    pusher.push(text_xml(OPENID, "查余额", "3"))
    anonymous, bound, expired = server.received
    conv = conversation_id(APP_ID, OPENID)
    assert {m.sender_id for m in server.received} == {conv}
    for message in server.received:
        assert OPENID not in repr(message.metadata) and "customer_token" not in message.metadata

    def customer(message):
        return customer_from_user_event(message.sender_id, {"metadata": message.metadata,
                                                            "message_id": message.message_id})

    assert IDENTITY_METADATA_KEY not in anonymous.metadata and customer(anonymous) is None
    assert customer(bound) == "C001"
    assert IDENTITY_METADATA_KEY not in expired.metadata and customer(expired) is None


def test_agent_and_late_bot_messages_reach_the_openid_behind_the_conversation(local, fake_api, engine):
    server = local()
    _pusher(server).push(event_xml(OPENID, "subscribe"))
    conv = conversation_id(APP_ID, OPENID)
    registered = server.channel.hub.channels["wechat"]  # what the desk hub calls for this channel
    asyncio.run(registered.deliver(conv, {"text": "您好，我是人工客服", "agent": "王", "notice": False}))
    asyncio.run(registered.deliver(conv, {"typing": True, "agent": "王"}))  # no typing indicator on WeChat
    output = registered.output()
    asyncio.run(output.send_text_message(conv, "欢迎回来"))
    asyncio.run(output.send_text_message("wechat:" + "0" * 32, "无人接收"))  # unknown: dropped
    assert fake_api.texts_to(OPENID) == ["【人工客服 王】您好，我是人工客服", "欢迎回来"]
    # another replica (fresh cache) finds the openid in SQL
    assert ConversationMap(engine).openid_of(conv) == OPENID


def test_binding_api_over_http_notifies_wechat_and_refuses_a_reused_ticket(local, fake_api):
    import requests

    server = local()
    pusher = _pusher(server)
    link = pusher.reply_text(pusher.push(text_xml(OPENID, "绑定", "1")))
    ticket = link.split("ticket=", 1)[1].split()[0]
    base = server.base_url
    preview = requests.get(f"{base}/bind/preview", params={"ticket": ticket}, timeout=10)
    assert preview.status_code == 200 and preview.json()["wechat_account"] == mask_openid(OPENID)
    token = issue_token("C001")
    assert requests.post(f"{base}/bind", json={"ticket": ticket, "customer_token": token}, timeout=10
                         ).status_code == 410  # no one-step binding any more
    assert requests.post(f"{base}/bind/confirm", data="not json", timeout=10).status_code == 400
    confirm = requests.post(f"{base}/bind/confirm", json={"ticket": ticket},
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert confirm.status_code == 200 and confirm.json()["bound"] is True
    again = requests.post(f"{base}/bind/confirm", json={"ticket": ticket},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert again.status_code == 409
    assert "您的微信已绑定示例银行账户" in fake_api.wait_for(OPENID, 1)[0]
    auth = {"Authorization": f"Bearer {token}"}
    listed = requests.get(f"{base}/bindings", headers=auth, timeout=10).json()["bindings"]
    assert len(listed) == 1 and OPENID not in str(listed)
    assert requests.get(f"{base}/bindings", timeout=10).status_code == 401
    binding_id = listed[0]["binding_id"]
    assert requests.delete(f"{base}/bindings/{binding_id}", headers=auth, timeout=10).json()["revoked"]
    assert requests.get(f"{base}/bindings", headers=auth, timeout=10).json()["bindings"] == []
    assert server.channel.bindings.customer_of(OPENID) is None


def test_credentials_file_names_the_wechat_secrets_and_serve_exports_defaults(monkeypatch):
    from rasa.shared.exceptions import RasaException
    from rasa.shared.utils.io import read_config_file

    from bot.serve import credential_defaults
    from bot.settings import REPO_ROOT

    for name in ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY"):
        monkeypatch.delenv(name, raising=False)
    defaults = credential_defaults()
    assert {"WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_ENCODING_AES_KEY"} <= set(defaults)
    path = str(REPO_ROOT / "bot" / "credentials.yml")
    with pytest.raises(RasaException, match="environment variables"):  # Rasa refuses unset variables
        read_config_file(path)
    for name, value in defaults.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("WECHAT_ENCODING_AES_KEY", AES_KEY)
    section = read_config_file(path)["connectors.wechat.channel.WeChatInput"]
    assert WeChatSecrets.from_credentials(section) == WeChatSecrets(TOKEN, "", "", AES_KEY)
