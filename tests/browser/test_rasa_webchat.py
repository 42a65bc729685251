"""The stock npm `rasa-webchat` widget, embedded on a bank page served from a SECOND origin,
against the running assistant: what an integrator gets (issue 13).

The page is served by a small local HTTP server on 127.0.0.1:<port> (the assistant is on
localhost:<other port>); its origin is the one in ALLOWED_ORIGINS (tests/channels.py). A second
page server on another port plays a site that is not allowed.
"""
from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from bot.identity import issue_token
from bot.settings import REPO_ROOT
from tests.browser.conftest import PHONE
from tests.channels import CUSTOMER_SECRET
from tests.conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]
RASA_WEBCHAT = REPO_ROOT / "models" / "webchat_vendor" / "rasa-webchat-1.0.1" / "index.js"
ANSWER_TIMEOUT_MS = 30_000

HOST_PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>示例银行 · 网上银行</title></head>
<body>
  <h1>示例银行</h1>
  <div id="webchat"></div>
  <script src="rasa-webchat.js"></script>
  <script>
    // What the bank's page does: point the widget at the assistant and pass the signed
    // customer token of the logged-in customer as customData (sent with every message).
    var params = new URLSearchParams(location.hash.slice(1));
    var token = params.get("token");
    window.socketErrors = [];
    WebChat.default({
      socketUrl: params.get("server"),
      socketPath: "/socket.io/",
      customData: token ? {customer_token: token} : {},
      embedded: true,
      title: "示例银行在线客服",
      initPayload: "/greet",
      params: {storage: "session"},
      onSocketEvent: {connect_error: function (e) { window.socketErrors.push(String(e)); }}
    }, document.getElementById("webchat"));
  </script>
</body>
</html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output readable
        pass


@functools.lru_cache(maxsize=None)
def _site_dir(root: str) -> Path:
    site = Path(root)
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text(HOST_PAGE, encoding="utf-8")
    shutil.copyfile(RASA_WEBCHAT, site / "rasa-webchat.js")
    return site


def _serve(site: Path, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def bank_pages(channel_servers, tmp_path_factory) -> Iterator[dict]:
    """{"allowed": origin in ALLOWED_ORIGINS, "other": an origin that is not}."""
    if not RASA_WEBCHAT.is_file():
        pytest.fail(f"{RASA_WEBCHAT} missing: run `make setup` (scripts/vendor_widget.sh vendors it)")
    site = _site_dir(str(tmp_path_factory.mktemp("bank_site")))
    allowed = channel_servers.host_page_origin
    servers = [_serve(site, urlsplit(allowed).port), _serve(site, free_port())]
    yield {"allowed": allowed, "other": f"http://127.0.0.1:{servers[1].server_address[1]}"}
    for server in servers:
        server.shutdown()
        server.server_close()


def _open(browser, servers, origin: str, token: str | None = None):
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    fragment = f"server={servers.rasa_url}" + (f"&token={token}" if token else "")
    page.goto(f"{origin}/index.html#{fragment}")
    return page


def _ready(page) -> None:
    """Connected, session confirmed, and the greeting (initPayload /greet) answered."""
    page.wait_for_selector(".rw-new-message", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_selector(".rw-response", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the widget shows a turn's bubbles one by one


def _ask(page, text: str) -> list[str]:
    before = page.locator(".rw-response").count()
    page.fill(".rw-new-message", text)
    page.click(".rw-send")
    page.wait_for_function(f"document.querySelectorAll('.rw-response').length > {before}",
                           timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(3500)  # rasa-webchat delays each bubble by up to 3 s
    return page.locator(".rw-response").all_inner_texts()[before:]


def test_faq_answered_in_the_stock_widget_from_an_allowed_origin(browser, channel_servers, bank_pages,
                                                                  screenshot):
    page = _open(browser, channel_servers, bank_pages["allowed"])
    _ready(page)
    assert "免息" in "\n".join(_ask(page, "信用卡免息期最长多少天"))
    assert "登录" in "\n".join(_ask(page, "帮我查一下卡里还有多少钱"))  # anonymous: login prompt only
    screenshot(page, "rasa_webchat_anonymous")


def test_logged_in_customer_via_custom_data_token_gets_a_balance_with_its_line_breaks(
        browser, channel_servers, bank_pages, screenshot):
    token = issue_token("C001", secret=CUSTOMER_SECRET)
    page = _open(browser, channel_servers, bank_pages["allowed"], token=token)
    _ready(page)
    answer = "\n".join(_ask(page, "帮我查一下卡里还有多少钱"))
    assert "元" in answer and "登录" not in answer
    # "您的账户余额如下：\n尾号…" — react-markdown would join single lines; each account keeps its line
    assert "如下：\n" in answer
    bubble = page.locator(".rw-response", has_text="如下").last
    assert bubble.locator("br").count() >= 1
    screenshot(page, "rasa_webchat_logged_in")


def test_a_page_on_another_origin_cannot_open_the_socket(browser, channel_servers, bank_pages):
    page = _open(browser, channel_servers, bank_pages["other"])
    page.wait_for_function("window.socketErrors && window.socketErrors.length > 0", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(2000)
    assert page.locator(".rw-response").count() == 0  # no session, no greeting, nothing answered
    assert page.locator(".rw-new-message").count() == 0  # hidden while not connected
