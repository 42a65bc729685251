"""The security suite over real HTTP against running servers (issue 13): identity only from the
current message, namespaced conversations, tokens kept out of trackers and logs, the guarded
action server, and the REST channel's production settings (partner credential, CORS, limits).

WeChat replay/binding and agent-desk checks live beside their channels' tests
(test_wechat_channel.py, test_agent_desk_api.py); docs/security.md maps every finding to its test.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests

from bot.identity import IDENTITY_METADATA_KEY, TOKEN_METADATA_KEY, issue_token
from bot.serve import Servers
from bot.train import ensure_model
from tests.channels import environment, stored_bytes
from tests.conftest import free_port

pytestmark = pytest.mark.slow
BALANCE = "可用余额"
C001_BALANCE = "52,380.50"


def say(servers, sender: str, text: str, token: str | None = None, metadata: dict | None = None,
        headers: dict | None = None) -> requests.Response:
    body = {"sender": sender, "message": text, "metadata": dict(metadata or {})}
    if token:
        body["metadata"][TOKEN_METADATA_KEY] = token
    return requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json=body, headers=headers or {}, timeout=60)


def text_of(response: requests.Response) -> str:
    response.raise_for_status()
    return "\n".join(m.get("text", "") for m in response.json())


def new_sender() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


def assert_login_prompt_and_no_data(reply: str) -> None:
    assert "登录" in reply, reply
    assert C001_BALANCE not in reply and BALANCE not in reply and "6688" not in reply, reply


# --- identity comes only from the current message -------------------------------------------------

def test_identity_is_not_inherited_from_an_earlier_message(channel_servers):
    sender = new_sender()
    assert C001_BALANCE in text_of(say(channel_servers, sender, "查一下我的余额", token=issue_token("C001")))
    # the attack: same conversation, no token
    assert_login_prompt_and_no_data(text_of(say(channel_servers, sender, "查一下我的余额")))
    assert_login_prompt_and_no_data(text_of(say(channel_servers, sender, "再查一次余额")))


def test_a_resent_message_id_without_the_token_is_not_shown_the_earlier_answer(channel_servers):
    """Replaying a client message id (bot/idempotent_turns.py) must not hand out an answer given to a
    customer verified on the first copy: identity comes only from the current message."""
    sender, token = new_sender(), issue_token("C001")
    first = text_of(say(channel_servers, sender, "查一下我的余额", token=token, metadata={"message_id": "m-1"}))
    assert C001_BALANCE in first
    assert text_of(say(channel_servers, sender, "查一下我的余额", token=token, metadata={"message_id": "m-1"})) == first
    assert_login_prompt_and_no_data(text_of(say(channel_servers, sender, "查一下我的余额",
                                                metadata={"message_id": "m-1"})))


def test_a_seal_copied_from_the_tracker_claims_nobody(channel_servers):
    sender = new_sender()
    text_of(say(channel_servers, sender, "查余额", token=issue_token("C001")))
    events = channel_servers.tracker(f"rest:{sender}")["events"]
    [sealed] = [e["metadata"][IDENTITY_METADATA_KEY] for e in events
                if e["event"] == "user" and IDENTITY_METADATA_KEY in (e.get("metadata") or {})]
    reply = text_of(say(channel_servers, sender, "查余额", metadata={IDENTITY_METADATA_KEY: sealed}))
    assert_login_prompt_and_no_data(reply)


@pytest.mark.parametrize("kind", ["forged", "expired", "wrong_audience", "no_jti"])
def test_bad_tokens_log_nobody_in(channel_servers, kind):
    now, secret = int(time.time()), "a-forger-s-own-secret-" + "f" * 16
    claims = {"sub": "C001", "iss": "shili-bank", "aud": "shili-bank-assistant", "exp": now + 600, "jti": "x1"}
    from bot.identity import token_secret

    if kind == "forged":
        token = jwt.encode(claims, secret, algorithm="HS256")
    elif kind == "expired":
        token = jwt.encode({**claims, "exp": now - 120}, token_secret(), algorithm="HS256")
    elif kind == "wrong_audience":
        token = jwt.encode({**claims, "aud": "another-bank-service"}, token_secret(), algorithm="HS256")
    else:
        token = jwt.encode({k: v for k, v in claims.items() if k != "jti"}, token_secret(), algorithm="HS256")
    assert_login_prompt_and_no_data(text_of(say(channel_servers, new_sender(), "查余额", token=token)))


def test_a_token_replayed_into_another_conversation_names_nobody_there(channel_servers):
    token, first, second = issue_token("C001"), new_sender(), new_sender()
    assert C001_BALANCE in text_of(say(channel_servers, first, "查余额", token=token))
    assert_login_prompt_and_no_data(text_of(say(channel_servers, second, "查余额", token=token)))
    assert C001_BALANCE in text_of(say(channel_servers, first, "查余额", token=token))  # still its own


# --- conversations are namespaced per channel -----------------------------------------------------

def test_replies_name_the_rest_conversation_to_use_with_the_tracker_api(channel_servers):
    sender = new_sender()
    replies = say(channel_servers, sender, "你好").json()
    assert replies and {r["recipient_id"] for r in replies} == {f"rest:{sender}"}
    events = channel_servers.tracker(f"rest:{sender}")["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["你好"]
    # the recipient id itself may be sent back as the sender: the same conversation, not a new one
    say(channel_servers, f"rest:{sender}", "谢谢").raise_for_status()
    assert len([e for e in channel_servers.tracker(f"rest:{sender}")["events"] if e["event"] == "user"]) == 2


@pytest.mark.parametrize("victim", ["webchat:0123456789abcdef0123456789abcdef", "wechat:5f2b9c0e"])
def test_rest_cannot_act_on_another_channels_conversation(channel_servers, victim):
    replies = say(channel_servers, victim, "查余额").json()
    assert {r["recipient_id"] for r in replies} == {f"rest:{victim}"}
    assert not [e for e in channel_servers.tracker(victim)["events"] if e["event"] == "user"]


# --- tokens never reach the tracker store, the HTTP API or the logs -------------------------------

def test_tokens_are_not_stored_in_trackers_or_logs(channel_servers):
    sender, token = new_sender(), issue_token("C001")
    text_of(say(channel_servers, sender, "查余额", token=token))
    text_of(say(channel_servers, sender, "最近的交易记录", token=token))
    signature = token.rsplit(".", 1)[1]
    api_view = json.dumps(channel_servers.tracker(f"rest:{sender}"))
    assert signature not in api_view and TOKEN_METADATA_KEY not in api_view
    stored = stored_bytes(Path(channel_servers.settings.tracker_db_path))
    assert signature.encode() not in stored and token.encode() not in stored
    logs = b"".join(p.read_bytes() for p in Path(channel_servers.settings.tracker_db_path).parent.glob("logs/*.log"))
    assert logs and signature.encode() not in logs


# --- the action server ------------------------------------------------------------------------------

def _listening_addresses(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_action_server_refuses_calls_without_the_secret(channel_servers):
    base = f"http://127.0.0.1:{channel_servers.settings.action_port}"
    call = {"next_action": "action_check_balance", "sender_id": "rest:x", "version": "3.6.21",
            "tracker": {"sender_id": "rest:x", "events": [], "slots": {}, "latest_message": {}}, "domain": {}}
    assert requests.post(f"{base}/webhook", json=call, timeout=10).status_code == 403
    assert requests.post(f"{base}/webhook", json=call, headers={"X-Action-Secret": "guess"},
                         timeout=10).status_code == 403
    assert requests.get(f"{base}/actions", timeout=10).status_code == 403
    assert requests.get(f"{base}/health", timeout=10).status_code == 200
    assert "access-control-allow-origin" not in {k.lower() for k in
                                                 requests.get(f"{base}/health", headers={"Origin": "https://evil.example"},
                                                              timeout=10).headers}
    # only loopback: 127.0.0.1 (0100007F in /proc/net/tcp)
    assert _listening_addresses(channel_servers.settings.action_port) == {"0100007F"}


# --- the REST channel in its production settings ----------------------------------------------------

PARTNER = "partner-credential-" + "p" * 24
BANK_ORIGIN = "https://app.shili-bank.example"


@pytest.fixture(scope="module")
def hardened(settings, tmp_path_factory):
    work = tmp_path_factory.mktemp("hardened")
    env = {"REST_BEARER_TOKEN": PARTNER, "ALLOWED_ORIGINS": BANK_ORIGIN, "RATE_PER_SENDER_BURST": "3",
           "RATE_PER_SENDER_PER_MIN": "1", "MAX_MESSAGE_CHARS": "200",
           "RATE_PER_ADDRESS_BURST": "20", "RATE_PER_ADDRESS_PER_MIN": "600",
           "CONNECTOR_DB_URL": f"sqlite:///{work / 'connectors.db'}"}
    config = dataclasses.replace(settings, rasa_port=free_port(), action_port=free_port(),
                                 tracker_db_path=work / "tracker.db", bank_db_url=f"sqlite:///{work / 'bank.db'}",
                                 secrets_dir=work / "secrets")
    with environment(env), Servers(model=ensure_model(), settings=config, log_dir=work / "logs") as running:
        yield running


def test_a_partner_credential_can_be_required(hardened):
    assert say(hardened, new_sender(), "你好").status_code == 401
    assert say(hardened, new_sender(), "你好", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert say(hardened, new_sender(), "你好", headers={"Authorization": f"Bearer {PARTNER}"}).status_code == 200


def test_browsers_of_other_origins_are_not_allowed(hardened):
    url = f"{hardened.rasa_url}/webhooks/rest/webhook"
    allowed = requests.options(url, headers={"Origin": BANK_ORIGIN, "Access-Control-Request-Method": "POST"},
                               timeout=10)
    assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == BANK_ORIGIN
    evil = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
                            timeout=10)
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil.headers
    posted = say(hardened, new_sender(), "你好", headers={"Authorization": f"Bearer {PARTNER}",
                                                        "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in posted.headers


def test_rates_and_sizes_are_limited_with_a_clear_answer(hardened):
    auth, sender = {"Authorization": f"Bearer {PARTNER}"}, new_sender()
    codes = [say(hardened, sender, "你好", headers=auth).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = say(hardened, sender, "你好", headers=auth)
    assert limited.status_code == 429 and "频繁" in limited.json()[0]["text"]
    assert say(hardened, new_sender(), "你好", headers=auth).status_code == 200  # other senders unaffected
    too_long = say(hardened, new_sender(), "转" * 201, headers=auth)
    assert too_long.status_code == 413 and "200" in too_long.json()["error"]
    user_events = [e for e in hardened.tracker(f"rest:{sender}")["events"] if e["event"] == "user"]
    assert len(user_events) == 3  # refused messages never reached the bot


def test_guessing_the_partner_credential_is_rate_limited_per_address(hardened):
    url = f"{hardened.rasa_url}/webhooks/rest/webhook"
    with requests.Session() as client:
        codes = [client.post(url, json={"sender": "x", "message": "你好"}, headers={"Authorization": "Bearer guess"},
                             timeout=10).status_code for _ in range(60)]
    # Guesses are answered until the address's bucket (20, less what earlier tests in this module used)
    # is empty; it refills at 10/s, so on a busy machine a few later guesses get through again, but
    # most of those after the burst are refused.
    assert codes[0] == 401 and 429 in codes and codes[20:].count(429) >= len(codes[20:]) // 2, codes
