"""Task flows over a real Rasa server + action server + sandbox bank (SQLite), through REST.

Each test is a conversation a customer could have: logged in with a signed
token in the message metadata (as the widget and WeChat channels send it), or
anonymous. Button payloads are used where a customer would click a button.
"""
from __future__ import annotations

import dataclasses
import os
import uuid

import pytest
import requests

from bot.identity import TOKEN_METADATA_KEY, issue_token
from bot.serve import Servers
from bot.train import ensure_model
from tests.conftest import free_port

pytestmark = pytest.mark.slow
SECRET = "integration-test-secret-" + "x" * 16
CUSTOMER = "C001"


@pytest.fixture(scope="module")
def bank_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('bank') / 'bank.db'}"


@pytest.fixture(scope="module")
def servers(settings, tmp_path_factory, bank_url):
    work = tmp_path_factory.mktemp("flow-servers")
    previous = os.environ.get("CUSTOMER_TOKEN_SECRET")
    os.environ["CUSTOMER_TOKEN_SECRET"] = SECRET
    config = dataclasses.replace(settings, rasa_port=free_port(), action_port=free_port(),
                                 tracker_db_path=work / "tracker.db", bank_db_url=bank_url,
                                 secrets_dir=work / "secrets")
    try:
        with Servers(model=ensure_model(), settings=config, log_dir=work / "logs") as running:
            yield running
    finally:
        if previous is None:
            os.environ.pop("CUSTOMER_TOKEN_SECRET", None)
        else:
            os.environ["CUSTOMER_TOKEN_SECRET"] = previous


@pytest.fixture()
def bank(bank_url):
    from bot.banking.sandbox import SandboxBank

    return SandboxBank(bank_url)


class Chat:
    def __init__(self, servers: Servers, customer: str | None = CUSTOMER) -> None:
        self.servers, self.sender = servers, f"flow-{uuid.uuid4().hex[:8]}"
        self.metadata = {TOKEN_METADATA_KEY: issue_token(customer, secret=SECRET)} if customer else {}

    def say(self, text: str) -> list[dict]:
        response = requests.post(f"{self.servers.rasa_url}/webhooks/rest/webhook", timeout=60,
                                 json={"sender": self.sender, "message": text, "metadata": self.metadata})
        response.raise_for_status()
        return response.json()

    def text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))

    def tracker(self) -> dict:
        return self.servers.tracker(f"rest:{self.sender}")  # REST conversations are namespaced


def test_account_data_needs_a_valid_login(servers):
    anonymous = Chat(servers, customer=None).text("帮我查一下卡里还有多少钱")
    assert "登录" in anonymous and "余额" not in anonymous.replace("查询余额", "")
    forged = Chat(servers, customer=None)
    forged.metadata = {TOKEN_METADATA_KEY: issue_token(CUSTOMER, secret="another-secret-" + "y" * 20)}
    assert "登录" in forged.text("查余额")


def test_balance_for_a_logged_in_customer(servers):
    reply = Chat(servers).text("查一下我的余额")
    assert "可用余额" in reply and "6688" in reply


def test_card_loss_with_a_correction_then_confirmation(servers, bank):
    chat = Chat(servers)
    question = chat.text("我的卡丢了，尾号6688")
    assert "6688" in question and "确认" in question
    corrected = chat.text("不对，是4872")
    assert "4872" in corrected and "确认" in corrected
    done = chat.text("/affirm")
    assert "已为您挂失尾号 4872" in done and "书面" in done
    assert {c.last4: c.status for c in bank.cards(CUSTOMER)}["4872"] == "lost"
    assert {c.last4: c.status for c in bank.cards(CUSTOMER)}["6688"] == "active"


def test_transfer_keeps_its_slots_across_a_faq_and_needs_secure_confirmation(servers, bank):
    chat = Chat(servers)
    before = {a.id: a.balance for a in bank.accounts(CUSTOMER)}
    assert "金额" in chat.text("我要给张三转账")
    aside = chat.say("跨行转账要收手续费吗")
    assert chat.tracker()["slots"]["kb_answer_id"] == "transfer.interbank_fee"  # answered from the KB …
    assert "金额" in aside[-1]["text"]                                           # … then the flow asks again
    assert "哪张卡" in chat.text("500块")
    confirm = chat.text("6688")
    assert "张三" in confirm and "500.00" in confirm
    done = chat.text("/affirm")
    assert "App" in done and "验证" in done
    assert {a.id: a.balance for a in bank.accounts(CUSTOMER)} == before  # nothing moved from the chat


def test_cancel_in_the_middle_of_a_flow(servers):
    chat = Chat(servers)
    chat.text("我要转账")
    assert "取消" in chat.text("算了")
    assert chat.tracker()["active_loop"] in ({}, None) or not chat.tracker()["active_loop"].get("name")


def test_switching_task_mid_flow(servers):
    chat = Chat(servers)
    assert "哪张卡" in chat.text("我要挂失")
    switched = chat.text("先帮我查下余额")
    assert "可用余额" in switched


def test_fraud_report_is_urgent_and_offers_a_freeze(servers):
    replies = Chat(servers).say("有人冒充客服让我把钱转到安全账户")
    text = "\n".join(m.get("text", "") for m in replies)
    assert "110" in text and "96110" in text
    assert any("冻结" in b["title"] for m in replies for b in m.get("buttons", []))


def test_fallback_ladder_offers_a_human_after_two_misses(servers):
    chat = Chat(servers)
    assert "换个说法" in chat.text("qwerty asdf zxcv")
    second = chat.say("zxcv bnm poiu lkjh")
    assert any(b["payload"] == "/request_human" for m in second for b in m.get("buttons", [])), second


def test_an_action_server_outage_is_told_to_the_customer_and_the_chat_works_again_after(servers):
    """Runs last in this module: it kills the module's action server and starts a new one."""
    chat = Chat(servers)
    servers.kill_action_server()
    try:
        balance = chat.text("查一下我的余额")
        assert "系统暂时繁忙" in balance and "没有产生任何变动" in balance, balance
        transfer = chat.text("给张三转500元")  # the form's validation cannot run: the form must not go on
        assert "系统暂时繁忙" in transfer, transfer
        assert chat.tracker()["active_loop"].get("name") is None
    finally:
        servers.start_action_server()
    assert "可用余额" in chat.text("查一下我的余额")
    assert "系统暂时繁忙" not in chat.text("给张三转500元")
    assert chat.tracker()["active_loop"].get("name") == "transfer_form"
