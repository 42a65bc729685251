"""A customer in the widget and an agent in the console, in two browser contexts, hand a chat back and forth."""
from __future__ import annotations

import time

import pytest

from tests.browser.conftest import DESKTOP, PHONE, record_timing
from tests.browser.test_webchat_widget import _ask, _open
from tests.channels import AGENT_PASSWORD, add_agent

pytestmark = [pytest.mark.slow, pytest.mark.browser]
WAIT_MS = 30_000


def test_widget_customer_and_console_agent_round_trip(browser, channel_servers, screenshot):
    add_agent(channel_servers, "console_agent")
    customer = _open(browser, channel_servers, viewport=PHONE)
    assert "转接人工客服" in _ask(customer, "我要找人工客服")

    agent = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    agent.goto(f"{channel_servers.rasa_url}/agent/")
    agent.fill("#username", "console_agent")
    agent.fill("#password", AGENT_PASSWORD)
    agent.click("#login-form button[type=submit]")
    waiting = agent.locator("#waiting li.item", has_text="webchat").first
    waiting.wait_for(timeout=WAIT_MS)
    waiting.locator("button", has_text="接入").click()
    agent.wait_for_selector("#chat:not([hidden])")
    customer.wait_for_selector(".sw-notice:has-text('已接入')", timeout=WAIT_MS)

    started = time.perf_counter()
    customer.fill(".sw-input", "我的卡被锁了，怎么办")
    customer.click(".sw-send")
    agent.wait_for_selector("#transcript .turn.customer:has-text('我的卡被锁了')", timeout=WAIT_MS)
    customer_to_agent_s = time.perf_counter() - started

    agent.wait_for_selector("#suggestions .suggestion, #suggestions .meta", timeout=WAIT_MS)  # live assist
    started = time.perf_counter()
    agent.fill("#reply", "您好，我是人工客服，我来帮您解锁")
    agent.press("#reply", "Enter")
    customer.wait_for_selector(".sw-agent .sw-bubble:has-text('我来帮您解锁')", timeout=WAIT_MS)
    agent_to_customer_s = time.perf_counter() - started
    screenshot(customer, "handoff_customer_phone")
    screenshot(agent, "handoff_agent_console")

    agent.click("#return-bot")
    customer.wait_for_selector(".sw-bot .sw-bubble:has-text('由我继续为您服务')", timeout=WAIT_MS)  # utter_welcome_back
    assert "免息" in _ask(customer, "信用卡免息期最长多少天")

    record_timing(handoff_customer_to_agent_s=customer_to_agent_s, handoff_agent_to_customer_s=agent_to_customer_s)
