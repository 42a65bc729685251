"""The chat widget in a real browser against the running assistant (phone WebView size and desktop)."""
from __future__ import annotations

import time

import pytest

from bot.identity import issue_token
from tests.browser.conftest import DESKTOP, PHONE, record_timing
from tests.channels import CUSTOMER_SECRET

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ANSWER_TIMEOUT_MS = 30_000


def _open(browser, servers, viewport=PHONE, token=None, context=None):
    context = context or browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{servers.rasa_url}/webhooks/webchat/" + (f"#token={token}" if token else ""))
    page.wait_for_selector(".sw-root[data-session]")
    page.wait_for_selector(".sw-bot .sw-bubble")
    return page


def _ask(page, text: str) -> str:
    before = page.locator(".sw-bot .sw-bubble").count()
    page.fill(".sw-input", text)
    page.click(".sw-send")
    page.wait_for_function(f"document.querySelectorAll('.sw-bot .sw-bubble').length > {before}",
                           timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(300)  # a turn may carry several bubbles
    return "\n".join(page.locator(".sw-bot .sw-bubble").all_inner_texts()[before:])


def test_faq_answer_buttons_and_history_after_reload_on_a_phone(browser, channel_servers, screenshot):
    page = _open(browser, channel_servers)
    started = time.perf_counter()
    answer = _ask(page, "信用卡免息期最长多少天")
    first_answer_s = time.perf_counter() - started
    assert "免息" in answer
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling

    question = _ask(page, "附近有你们的网点吗")
    assert "城市" in question
    button = page.locator(".sw-button").first
    city = button.inner_text()
    before = page.locator(".sw-bot .sw-bubble").count()
    button.click()
    page.wait_for_function(f"document.querySelectorAll('.sw-bot .sw-bubble').length > {before}",
                           timeout=ANSWER_TIMEOUT_MS)
    assert city in page.locator(".sw-bot .sw-bubble").last.inner_text()
    screenshot(page, "phone_conversation")

    session = page.get_attribute(".sw-root", "data-session")
    page.reload()
    page.wait_for_selector(".sw-notice")
    assert page.get_attribute(".sw-root", "data-session") == session
    restored = "\n".join(page.locator(".sw-bubble").all_inner_texts())
    assert "信用卡免息期最长多少天" in restored and "免息" in restored
    screenshot(page, "phone_after_reload")
    record_timing(widget_first_answer_s=first_answer_s)


def test_logged_in_customer_sees_own_data_on_desktop(browser, channel_servers, screenshot):
    page = _open(browser, channel_servers, viewport=DESKTOP, token=issue_token("C001", secret=CUSTOMER_SECRET))
    answer = _ask(page, "帮我查一下卡里还有多少钱")
    assert "元" in answer and "登录" not in answer
    screenshot(page, "desktop_logged_in")


def test_a_forged_token_or_someone_elses_session_gives_an_anonymous_new_session(browser, channel_servers):
    owner = _open(browser, channel_servers, token=issue_token("C001", secret=CUSTOMER_SECRET))
    _ask(owner, "帮我查一下卡里还有多少钱")
    stolen = owner.get_attribute(".sw-root", "data-session")

    context = browser.new_context(viewport=PHONE)
    context.add_init_script(f"window.localStorage.setItem('shili_webchat_session', '{stolen}')")
    intruder = _open(browser, channel_servers, token="forged.token.value", context=context)
    assert intruder.get_attribute(".sw-root", "data-session") != stolen
    assert "还有多少钱" not in "\n".join(intruder.locator(".sw-bubble").all_inner_texts())
    assert "登录" in _ask(intruder, "帮我查一下卡里还有多少钱")
