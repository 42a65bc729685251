"""The WeChat official account against the running assistant: real HTTP, real crypto, fake WeChat API."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, update
from wechatpy.crypto import WeChatCrypto

from bot.identity import issue_token
from connectors.wechat.channel import RATE_LIMITED_TEXT
from connectors.wechat.crypto import signature
from connectors.store import wechat_message_turns
from connectors.wechat.ids import conversation_id
from connectors.wechat.store import MessageTurns, hashed_key
from tests.channels import AGENT_PASSWORD, CUSTOMER_SECRET, WECHAT, add_agent, channel_stack, stored_bytes
from tests.fakes.wechat_client import WeChatPusher, event_xml, text_xml

pytestmark = pytest.mark.slow


def _openid() -> str:
    return f"o_{uuid.uuid4().hex[:20]}"


def _msg_id() -> str:
    return str(uuid.uuid4().int % 10**18)


@pytest.fixture(scope="module")
def wechat(channel_servers):
    crypto = WeChatCrypto(WECHAT["token"], WECHAT["aes_key"], WECHAT["app_id"])  # wechatpy plays WeChat
    return WeChatPusher(f"{channel_servers.rasa_url}/webhooks/wechat/webhook", WECHAT["token"], crypto)


def _conversation(openid: str) -> str:
    return conversation_id(WECHAT["app_id"], openid)


def _user_texts(servers, openid: str) -> list[str]:
    return [e["text"] for e in servers.tracker(_conversation(openid))["events"] if e["event"] == "user"]


def test_server_verification_echoes_only_for_a_valid_signature(channel_servers):
    url = f"{channel_servers.rasa_url}/webhooks/wechat/webhook"
    good = {"timestamp": "1411443780", "nonce": "437374425", "echostr": "hello-wechat",
            "signature": signature(WECHAT["token"], "1411443780", "437374425")}
    assert requests.get(url, params=good, timeout=10).text == "hello-wechat"
    forged = requests.get(url, params={**good, "signature": "f" * 40}, timeout=10)
    assert forged.status_code == 403 and "hello-wechat" not in forged.text


def test_encrypted_question_gets_an_encrypted_signed_answer(wechat):
    openid = _openid()
    answer = wechat.reply_text(wechat.push(text_xml(openid, "信用卡免息期最长多少天", _msg_id())))
    assert answer and "免息" in answer


def test_a_retried_message_yields_exactly_one_bot_turn(wechat, channel_servers):
    openid, msg_id = _openid(), _msg_id()
    xml = text_xml(openid, "开户需要带什么材料", msg_id)
    replies = [wechat.push(xml) for _ in range(4)]  # the original and WeChat's three retries
    assert wechat.reply_text(replies[0])
    assert [r.text for r in replies[1:]] == ["success"] * 3
    assert _user_texts(channel_servers, openid) == ["开户需要带什么材料"]


def test_a_retry_runs_a_turn_whose_replica_died_and_repeats_one_it_had_saved(wechat, channel_servers):
    """What a replica killed mid-turn leaves behind: its claim on the message, never renewed again."""
    engine = create_engine(channel_servers.connector_db_url, future=True)
    dead = MessageTurns(engine, clock=lambda: time.time() - 60, owner="killed-replica")  # its lease long lapsed
    openid, msg_id = _openid(), _msg_id()
    xml = text_xml(openid, "开户需要带什么材料", msg_id)
    assert dead.claim(f"msg:{msg_id}", time.time() + 600) == MessageTurns.NEW  # died before saving the turn
    answer = wechat.reply_text(wechat.push(xml))  # WeChat's retry
    assert answer and _user_texts(channel_servers, openid) == ["开户需要带什么材料"]
    assert wechat.push(xml).text == "success"  # the rerun finished: later copies are copies

    openid, msg_id = _openid(), _msg_id()
    xml = text_xml(openid, "信用卡免息期最长多少天", msg_id)
    first = wechat.reply_text(wechat.push(xml))
    with engine.begin() as conn:  # as if the replica died after saving the turn, before marking it done
        conn.execute(update(wechat_message_turns).where(
            wechat_message_turns.c.key == hashed_key(f"msg:{msg_id}")).values(done=False, lease_until=0.0))
    assert wechat.reply_text(wechat.push(xml)) == first  # the saved answer again (same client message id)…
    assert _user_texts(channel_servers, openid) == ["信用卡免息期最长多少天"]  # …and no second turn


def test_forged_stale_foreign_and_malformed_requests_never_reach_the_bot(wechat, channel_servers):
    openid = _openid()
    assert wechat.push(text_xml(openid, "查余额", _msg_id()), forge=True).status_code == 403
    stale = str(int(time.time()) - 3600)
    assert wechat.push(text_xml(openid, "查余额", _msg_id()), timestamp=stale).status_code == 403
    foreign = WeChatPusher(wechat.url, WECHAT["token"], WeChatCrypto(WECHAT["token"], WECHAT["aes_key"],
                                                                      "wx_someone_else_00"))
    assert foreign.push(text_xml(openid, "查余额", _msg_id())).status_code == 403
    assert wechat.push("<xml><unclosed>").status_code == 400
    assert wechat.push("<xml>" + "x" * 70_000 + "</xml>").status_code == 413
    plain = WeChatPusher(wechat.url, WECHAT["token"])  # safe mode refuses plain messages
    assert plain.push(text_xml(openid, "查余额", _msg_id())).status_code == 403
    assert _user_texts(channel_servers, openid) == []
    stats = requests.get(f"{channel_servers.rasa_url}/webhooks/wechat/", timeout=10).json()
    assert stats["rejected"]["bad signature"] >= 1 and stats["rejected"]["stale timestamp"] >= 1


def test_subscribe_welcomes_and_unsubscribe_is_silent(wechat):
    openid = _openid()
    welcome = wechat.reply_text(wechat.push(event_xml(openid, "subscribe")))
    assert "示例银行" in welcome and "转账" in welcome
    assert wechat.reply_text(wechat.push(event_xml(openid, "unsubscribe"))) is None


def test_voice_uses_recognition_and_images_get_a_polite_reply(wechat):
    openid = _openid()
    voice = wechat.reply_text(wechat.push(text_xml(openid, "信用卡免息期最长多少天", _msg_id(), msg_type="voice")))
    assert "免息" in voice
    image = ("<xml><ToUserName>gh_shili</ToUserName><FromUserName>{o}</FromUserName>"
             "<CreateTime>{t}</CreateTime><MsgType>image</MsgType>"
             "<PicUrl>http://example.invalid/a.jpg</PicUrl><MsgId>{m}</MsgId></xml>")
    reply = wechat.reply_text(wechat.push(image.format(o=openid, t=int(time.time()), m=_msg_id())))
    assert "文字" in reply


def _answer(wechat, servers, openid: str, text: str) -> str:
    """The reply: passive, or — when the turn missed the 5-second window on a busy machine — the
    one the customer-service API delivered instead."""
    sent_before = len(servers.wechat_api.texts_to(openid))
    passive = wechat.reply_text(wechat.push(text_xml(openid, text, _msg_id())))
    return passive or servers.wechat_api.wait_for(openid, sent_before + 1)[sent_before]


def test_buttons_become_numbers_and_a_number_picks_the_option(wechat, channel_servers):
    openid = _openid()
    question = _answer(wechat, channel_servers, openid, "附近有你们的网点吗")
    assert "1. " in question and "请回复数字选择" in question
    first_city = question.split("1. ", 1)[1].splitlines()[0].strip()
    answer = _answer(wechat, channel_servers, openid, "1")
    assert first_city in answer and "网点" in answer


def test_menu_click_starts_the_mapped_task(wechat):
    openid = _openid()
    reply = wechat.reply_text(wechat.push(event_xml(openid, "CLICK", "BALANCE")))
    assert "登录" in reply or "绑定" in reply  # unbound: no account data


def _bind_ticket(wechat, openid: str) -> str:
    link = wechat.reply_text(wechat.push(text_xml(openid, "绑定", _msg_id())))
    assert openid not in link
    return link.split("ticket=", 1)[1].split()[0]


def _bind(channel_servers, wechat, openid: str, customer: str = "C001") -> dict:
    """The app's two steps: show what will be bound, then confirm with the customer's token."""
    base = f"{channel_servers.rasa_url}/webhooks/wechat"
    ticket = _bind_ticket(wechat, openid)
    preview = requests.post(f"{base}/bind/preview", json={"ticket": ticket}, timeout=10)
    assert preview.status_code == 200 and preview.json()["wechat_account"].startswith(openid[:4])
    token = issue_token(customer, secret=CUSTOMER_SECRET)
    confirmed = requests.post(f"{base}/bind/confirm", json={"ticket": ticket},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    assert "您的微信已绑定示例银行账户" in channel_servers.wechat_api.wait_for(openid, 1)[-1]
    return {"ticket": ticket, "token": token, **confirmed.json()}


def test_binding_is_previewed_confirmed_in_the_app_notified_and_undone_with_jiebang(wechat, channel_servers):
    openid = _openid()
    assert "绑定" in _answer(wechat, channel_servers, openid, "查一下我卡里余额")
    base = f"{channel_servers.rasa_url}/webhooks/wechat"
    ticket = _bind_ticket(wechat, openid)
    assert requests.post(f"{base}/bind/confirm", json={"ticket": ticket, "customer_token": "forged"},
                         timeout=10).status_code == 401
    assert requests.post(f"{base}/bind/confirm", json={"ticket": "forged", "customer_token": "x"},
                         timeout=10).status_code == 400
    assert requests.post(f"{base}/bind/confirm", data="not json", timeout=10).status_code == 400
    assert requests.post(f"{base}/bind", json={"ticket": ticket}, timeout=10).status_code == 410
    token = issue_token("C001", secret=CUSTOMER_SECRET)
    bound = requests.post(f"{base}/bind/confirm", json={"ticket": ticket, "customer_token": token},
                          timeout=10)
    assert bound.status_code == 200 and bound.json()["bound"] is True
    assert "您的微信已绑定示例银行账户" in channel_servers.wechat_api.wait_for(openid, 1)[0]
    balance = _answer(wechat, channel_servers, openid, "查一下我卡里余额")
    assert "余额" in balance and "元" in balance and "登录" not in balance
    assert "已解除" in wechat.reply_text(wechat.push(text_xml(openid, "解绑", _msg_id())))
    assert "绑定" in _answer(wechat, channel_servers, openid, "查一下我卡里余额")
    assert "App" in requests.get(f"{base}/bind", params={"ticket": ticket}, timeout=10).text


def test_a_reused_binding_ticket_is_refused(wechat, channel_servers):
    openid = _openid()
    first = _bind(channel_servers, wechat, openid)
    again = requests.post(f"{channel_servers.rasa_url}/webhooks/wechat/bind/confirm",
                          json={"ticket": first["ticket"]},
                          headers={"Authorization": f"Bearer {issue_token('C002', secret=CUSTOMER_SECRET)}"},
                          timeout=10)
    assert again.status_code == 409
    listed = requests.get(f"{channel_servers.rasa_url}/webhooks/wechat/bindings", timeout=10,
                          headers={"Authorization": f"Bearer {issue_token('C002', secret=CUSTOMER_SECRET)}"})
    assert all(b["binding_id"] != first["binding_id"] for b in listed.json()["bindings"])


def test_the_app_lists_and_revokes_bindings(wechat, channel_servers):
    openid = _openid()
    bound = _bind(channel_servers, wechat, openid, customer="C002")
    base = f"{channel_servers.rasa_url}/webhooks/wechat/bindings"
    auth = {"Authorization": f"Bearer {bound['token']}"}
    listed = requests.get(base, headers=auth, timeout=10).json()["bindings"]
    assert bound["binding_id"] in [b["binding_id"] for b in listed] and openid not in str(listed)
    assert requests.get(base, headers={"Authorization": "Bearer forged"}, timeout=10).status_code == 401
    other = {"Authorization": f"Bearer {issue_token('C003', secret=CUSTOMER_SECRET)}"}
    assert requests.delete(f"{base}/{bound['binding_id']}", headers=other, timeout=10).status_code == 404
    revoked = requests.delete(f"{base}/{bound['binding_id']}", headers=auth, timeout=10)
    assert revoked.json()["revoked"] is True
    assert bound["binding_id"] not in [b["binding_id"] for b in requests.get(base, headers=auth, timeout=10)
                                       .json()["bindings"]]
    assert "绑定" in _answer(wechat, channel_servers, openid, "查一下我卡里余额")


def test_an_expired_binding_makes_the_customer_anonymous(wechat, channel_servers):
    from sqlalchemy import create_engine, update

    from connectors.store import wechat_account_bindings

    openid = _openid()
    bound = _bind(channel_servers, wechat, openid)
    engine = create_engine(channel_servers.connector_db_url, future=True)
    with engine.begin() as conn:
        conn.execute(update(wechat_account_bindings).where(
            wechat_account_bindings.c.binding_id == bound["binding_id"]).values(expires_at=time.time() - 1))
    reply = _answer(wechat, channel_servers, openid, "查一下我卡里余额")
    assert "绑定" in reply and "元" not in reply


def test_a_captured_request_replayed_inside_the_window_runs_no_second_turn(wechat, channel_servers):
    openid = _openid()
    captured = wechat.push(text_xml(openid, "开户需要带什么材料", _msg_id()))
    assert wechat.reply_text(captured)
    assert [WeChatPusher.replay(captured).text for _ in range(3)] == ["success"] * 3
    assert _user_texts(channel_servers, openid) == ["开户需要带什么材料"]


def test_a_message_for_another_official_account_is_refused(wechat, channel_servers):
    openid = _openid()
    response = wechat.push(text_xml(openid, "查余额", _msg_id(), to_user="gh_another_account"))
    assert response.status_code == 403
    assert _user_texts(channel_servers, openid) == []


def test_the_tracker_and_logs_hold_no_token_and_no_openid(wechat, channel_servers):
    openid = _openid()
    bound = _bind(channel_servers, wechat, openid)
    assert "元" in _answer(wechat, channel_servers, openid, "查一下我卡里余额")
    conversation = _conversation(openid)
    tracker = channel_servers.tracker(conversation)
    assert tracker["sender_id"] == conversation and conversation.startswith("wechat:")
    stored = stored_bytes(channel_servers.settings.tracker_db_path)
    assert conversation.encode() in stored
    log_dir = channel_servers.settings.tracker_db_path.parent / "logs"
    logs = b"".join(path.read_bytes() for path in log_dir.glob("*.log"))
    for secret in (openid, bound["token"], bound["ticket"]):
        assert secret.encode() not in stored and secret not in str(tracker) and secret.encode() not in logs


def test_flooding_from_one_follower_gets_a_polite_reply_and_no_turn(wechat, channel_servers):
    openid = _openid()
    image = ("<xml><ToUserName>gh_shili</ToUserName><FromUserName>{o}</FromUserName>"
             "<CreateTime>{t}</CreateTime><MsgType>image</MsgType>"
             "<PicUrl>http://example.invalid/a.jpg</PicUrl><MsgId>{m}</MsgId></xml>")
    replies = [wechat.reply_text(wechat.push(image.format(o=openid, t=int(time.time()), m=_msg_id())))
               for _ in range(15)]  # answered by the channel itself, but they count
    assert RATE_LIMITED_TEXT in replies
    assert wechat.reply_text(wechat.push(text_xml(openid, "信用卡免息期最长多少天", _msg_id()))) == RATE_LIMITED_TEXT
    assert _user_texts(channel_servers, openid) == []


@pytest.fixture(scope="module")
def slow_stack(settings, tmp_path_factory):
    """Plain mode, a passive window so short that every turn takes the asynchronous path, and an
    agent desk with least-busy routing where a customer nobody takes within 3 s gets a ticket."""
    with channel_stack(settings, tmp_path_factory.mktemp("wechat-async"), safe_mode=False,
                       passive_timeout_s=0.01, desk_max_wait_s=3.0, routing="least_busy") as servers:
        yield servers


def test_a_slow_turn_is_delivered_once_through_the_customer_service_api(slow_stack):
    pusher = WeChatPusher(f"{slow_stack.rasa_url}/webhooks/wechat/webhook", WECHAT["token"])
    openid, msg_id = _openid(), _msg_id()
    xml = text_xml(openid, "信用卡免息期最长多少天", msg_id)
    assert [pusher.push(xml).text for _ in range(3)] == ["success"] * 3
    delivered = slow_stack.wechat_api.wait_for(openid, 1)
    time.sleep(1.0)  # anything extra would have arrived by now
    assert len(slow_stack.wechat_api.texts_to(openid)) == 1 and "免息" in delivered[0]
    assert _user_texts(slow_stack, openid) == ["信用卡免息期最长多少天"]


def test_nobody_answering_in_time_turns_the_request_into_a_ticket_and_brings_the_bot_back(slow_stack):
    pusher = WeChatPusher(f"{slow_stack.rasa_url}/webhooks/wechat/webhook", WECHAT["token"])
    openid = _openid()
    assert pusher.push(text_xml(openid, "转人工", _msg_id())).text == "success"
    assert "转接人工客服" in slow_stack.wechat_api.wait_for(openid, 1)[0]
    texts = slow_stack.wechat_api.wait_for(openid, 3, timeout_s=30)  # watcher runs every 5 s
    assert any("暂无空闲的人工客服" in t and "留言" in t for t in texts), texts
    assert any("智能客服" in t for t in texts)
    assert pusher.push(text_xml(openid, "信用卡免息期最长多少天", _msg_id())).text == "success"
    assert "免息" in slow_stack.wechat_api.wait_for(openid, len(texts) + 1)[-1]


def test_least_busy_routing_hands_the_customer_to_an_online_agent(slow_stack):
    import socketio

    add_agent(slow_stack, "router_agent")
    token = requests.post(f"{slow_stack.rasa_url}/agent/api/login", timeout=10,
                          json={"username": "router_agent", "password": AGENT_PASSWORD}).json()["token"]
    assigned = []
    agent = socketio.Client(reconnection=False)
    agent.on("assigned", lambda data: assigned.append(data["handoff_id"]))
    agent.connect(slow_stack.rasa_url, socketio_path="/agent/socket.io", auth={"token": token},
                  transports=["polling"], wait_timeout=10)
    try:
        pusher = WeChatPusher(f"{slow_stack.rasa_url}/webhooks/wechat/webhook", WECHAT["token"])
        openid = _openid()
        pusher.push(text_xml(openid, "转人工", _msg_id()))
        texts = slow_stack.wechat_api.wait_for(openid, 2)
        assert "转接人工客服" in texts[0] and "已接入" in texts[1] and "router_agent" not in texts[1]
        deadline = time.monotonic() + 5
        while not assigned and time.monotonic() < deadline:
            time.sleep(0.05)
        assert assigned
    finally:
        agent.disconnect()
