"""The knowledge loop in the agent console (issue 17) in Chromium: customers' unanswered questions show up
clustered in 知识审核's review queue; an editor drafts a new entry from a cluster; the editor cannot
approve it; an approver sees the draft with its diff and approves it; customers get the new answer
without a restart; one rollback in 版本历史 takes it out again. An approver's own draft is refused by
the server and the page shows the server's words; agents only propose. Screenshots:
benchmarks/results/screenshots/knowledge_*.png. The knowledge database is shared with
tests/integration/test_knowledge_review_api.py (one session server): revisions are read, never assumed."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from bot.settings import REPO_ROOT
from tests.browser.conftest import DESKTOP
from tests.channels import AGENT_PASSWORD, add_agent, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ZONE = "Asia/Shanghai"
SCREENSHOTS = REPO_ROOT / "benchmarks" / "results" / "screenshots"
WAIT_MS = 30_000
API = "/agent/api/knowledge"
EDITOR, APPROVER, CHECKER, AGENT = "kbui_editor", "kbui_approver", "kbui_checker", "kbui_agent"
ASKED = ("你们银行组建过篮球队吗", "示例银行组建过篮球队没有")  # nothing in the shipped FAQ covers it
ANSWER = "示例银行职工篮球队“示例飞鹰”每年秋季参加金融系统联赛，欢迎客户到场观赛。"
ANSWER_EN = "Our staff basketball team, the Example Eagles, plays in the financial league every autumn."
UNTRUSTED = '<img src=x onerror="window.__kbxss=1">'  # a customer's words: must stay text in the page


class Api:
    def __init__(self, url: str, username: str) -> None:
        self.url = url
        response = requests.post(f"{url}/agent/api/login", timeout=10,
                                 json={"username": username, "password": AGENT_PASSWORD})
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{API}{path}", headers=self.headers, timeout=60)

    def post(self, path: str, body: dict) -> requests.Response:
        return requests.post(f"{self.url}{API}{path}", json=body, headers=self.headers, timeout=120)


def _ask(servers, text: str) -> str:
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", timeout=60,
                             json={"sender": f"kbui-{uuid.uuid4().hex[:10]}", "message": text})
    response.raise_for_status()
    return " ".join(m.get("text") or "" for m in response.json())


def _answered_within(servers, text: str, expected: bool, timeout_s: float = 20.0) -> bool:
    """Polls (fresh customers) until asking ``text`` does (or no longer does) get ANSWER: the servers
    follow a new index within seconds, without a restart."""
    deadline = time.monotonic() + timeout_s
    while (ANSWER in _ask(servers, text)) != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(1.0)
    return True


@pytest.fixture(scope="module")
def desk(channel_servers):
    roles = ((EDITOR, "editor"), (APPROVER, "approver"), (CHECKER, "approver"), (AGENT, "agent"))
    for username, role in roles:
        add_agent(channel_servers, username, role=role)
    return channel_servers


@pytest.fixture()
def console(browser, desk):
    """console(username): a logged-in console in its own browser context, on the 知识审核 tab."""
    contexts = []

    def open_as(username: str):
        contexts.append(browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id=ZONE))
        page = contexts[-1].new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{desk.rasa_url}/agent/")
        page.fill("#username", username)
        page.fill("#password", AGENT_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#tab-knowledge:not([hidden])")
        page.click("#tab-knowledge")
        page.wait_for_selector("#knowledge-view:not([hidden])")
        return page

    yield open_as
    for context in contexts:
        context.close()


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _pane(page, name: str) -> None:
    page.click(f"#kb-nav [data-pane={name}]")
    page.wait_for_selector(f"#kb-pane-{name}[data-state=ready]:not([hidden])", timeout=WAIT_MS)


def _status(page, pattern: str) -> re.Match:
    page.wait_for_function("p => new RegExp(p).test(document.getElementById('kb-status').textContent)",
                           arg=pattern, timeout=WAIT_MS)
    return re.search(pattern, page.inner_text("#kb-status"))


def _error(page) -> str:
    page.wait_for_selector("#kb-error:not(:empty)", timeout=WAIT_MS)
    return page.inner_text("#kb-error")


def test_draft_in_the_console_approve_live_without_restart_then_roll_back(desk, console):
    said = {text: _ask(desk, text) for text in (*ASKED, UNTRUSTED)}
    assert not any(ANSWER in reply for reply in said.values())
    editor_api, approver_api = Api(desk.rasa_url, EDITOR), Api(desk.rasa_url, APPROVER)
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))  # Asia/Shanghai

    def ours() -> list[dict]:  # both questions, once the analytics consumer has seen the customers' turns
        clusters = [c for c in editor_api.get(f"/queue?from={today}&to={today}").json()["clusters"]
                    if {t["text"] for t in c["texts"]} & set(ASKED)]
        return clusters if {t["text"] for c in clusters for t in c["texts"]} >= set(ASKED) else []
    assert wait_until(ours, timeout_s=30), (said, ours())
    key = next(c["key"] for c in ours() if ASKED[0] in {t["text"] for t in c["texts"]})

    # The editor: the review queue, a new entry drafted from the cluster.
    editor = console(EDITOR)
    assert editor.inner_text("#tab-knowledge") == "知识审核"
    editor.wait_for_selector("#kb-pane-queue[data-state=ready]", timeout=WAIT_MS)
    assert editor.input_value("#kb-to") == today
    cluster = editor.locator(f".kb-cluster[data-key='{key}']")
    label = cluster.locator(".kb-label").inner_text()
    assert int(cluster.locator(".kb-count").get_attribute("data-count")) >= 1
    assert "最接近的知识" in cluster.locator(".kb-nearest").inner_text()
    assert editor.evaluate("window.__kbxss") is None and editor.locator("#kb-clusters img").count() == 0
    assert UNTRUSTED in editor.inner_text("#kb-clusters")  # shown as the text it is
    cluster.locator("button.kb-new").click()
    assert cluster.locator(".kb-question").input_value() == label
    cluster.locator(".kb-category").select_option("fees_other")
    cluster.locator(".kb-answer").fill(ANSWER)
    cluster.locator(".kb-answer-en").fill(ANSWER_EN)
    _screenshot(editor, "knowledge_queue")
    def posted(r) -> bool:
        return r.url.endswith(f"{API}/changes") and r.request.method == "POST"
    with editor.expect_response(posted) as sent:
        cluster.locator("button.kb-submit").click()
    change_id = sent.value.json()["id"]
    assert int(_status(editor, r"已提交草稿 #(\d+)").group(1)) == change_id
    draft = editor_api.get(f"/changes/{change_id}").json()
    assert draft["maker"] == EDITOR and draft["source"] == f"cluster:{key}" and draft["kind"] == "new_entry"
    assert draft["payload"]["question"] == label and draft["payload"]["category"] == "fees_other"

    # The editor cannot approve: no button, and the server says no.
    _pane(editor, "drafts")
    card = editor.locator(f".kb-change[data-change='{change_id}']")
    assert card.locator(".kb-approve").count() == 0 and "须由另一位审批人批准" in card.inner_text()
    assert editor_api.post(f"/changes/{change_id}/approve", {}).status_code == 403

    # The approver: the draft with its diff and audit trail; approval publishes a new index.
    live_before = approver_api.get("/revisions").json()["live"]
    assert not _answered_within(desk, label, True, timeout_s=0)  # a draft is not live
    approver = console(APPROVER)
    _pane(approver, "drafts")
    card = approver.locator(f".kb-change[data-change='{change_id}']")
    assert card.locator("tr[data-field=answer] td.after").inner_text() == ANSWER
    assert card.locator("tr[data-field=question] td.after").inner_text() == label
    assert card.locator("tr[data-field=answer] td.before").inner_text() == "（无）"
    assert f"提交人 {EDITOR}" in card.locator(".kb-maker").inner_text()
    assert card.locator(".kb-audit li[data-action=draft]").count() == 1
    assert card.locator(".kb-own").count() == 0
    card.locator(".kb-comment").fill("已与产品部门核实")
    _screenshot(approver, "knowledge_approval")
    with approver.expect_response(lambda r: r.url.endswith(f"/changes/{change_id}/approve"),
                                 timeout=120_000) as answer:
        card.locator("button.kb-approve").click()
    approved = answer.value.json()
    assert answer.value.status == 200, approved
    version = approved["published"]["index_version"]
    assert f"索引版本 {version}" in _status(approver, rf"已批准 #{change_id}：版本 \d+ 已上线").string
    assert approved["revision"] > live_before
    assert _answered_within(desk, label, True), "the approved entry did not go live without a restart"
    assert editor_api.get(f"/changes/{change_id}").json()["status"] == "approved"

    # 版本历史: the approval is live; one rollback (confirmed) takes it out again.
    _pane(approver, "history")
    live_row = approver.locator(f"#kb-revisions tr[data-revision='{approved['revision']}']")
    assert live_row.locator(".kb-live").inner_text() == "当前线上"
    assert live_row.locator(".kb-index-version").inner_text() == version
    assert f"批准变更 #{change_id}" in live_row.inner_text() and live_row.locator(".kb-rollback").count() == 0
    dialogs = []
    approver.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with approver.expect_response(lambda r: r.url.endswith(f"{API}/rollback"), timeout=120_000) as answer:
        approver.locator(f"#kb-revisions tr[data-revision='{live_before}'] button.kb-rollback").click()
    rolled = answer.value.json()
    assert answer.value.status == 200, rolled
    assert dialogs and f"版本 {live_before}" in dialogs[0]
    shown = _status(approver, rf"已回滚到版本 {live_before}").string
    assert f"索引版本 {rolled['published']['index_version']}" in shown
    new_row = f"#kb-revisions tr[data-revision='{rolled['revision']}']"
    approver.wait_for_selector(f"{new_row} .kb-live", timeout=WAIT_MS)
    assert f"回滚到版本 {live_before}" in approver.inner_text(new_row)
    _screenshot(approver, "knowledge_history")
    assert _answered_within(desk, label, False), "the rollback did not take the entry out"
    assert editor_api.get(f"/changes/{change_id}").json()["status"] == "rolled_back"
    assert editor.errors == [] and approver.errors == []


def test_an_approvers_own_draft_is_refused_and_agents_only_propose(desk, console):
    approver = console(APPROVER)
    approver.click("#kb-nav [data-pane=edit]")
    approver.fill("#kb-edit-q", "transfer.arrival_time")
    approver.click("#kb-edit-search button[type=submit]")
    approver.click("#kb-edit-results li[data-entry='transfer.arrival_time'] button")
    approver.fill("#kb-edit-answer", "转账一般实时到账，跨行大额转账以人民银行系统处理时间为准。")
    approver.click("#kb-edit-form button[type=submit]")
    own = int(_status(approver, r"已提交草稿 #(\d+)").group(1))
    _pane(approver, "drafts")
    card = approver.locator(f".kb-change[data-change='{own}']")
    assert card.locator(".kb-own").count() == 1 and card.locator("tr[data-field=answer]").count() == 1
    refused = Api(desk.rasa_url, APPROVER).post(f"/changes/{own}/approve", {})
    assert refused.status_code == 403
    card.locator("button.kb-approve").click()
    assert _error(approver) == "批准失败：" + refused.json()["error"]  # the server's own words
    card.locator("button.kb-reject").click()  # no comment: refused in the page
    assert _error(approver) == "驳回需填写审批意见"

    agent = console(AGENT)
    assert agent.inner_text("#tab-knowledge") == "知识建议"
    assert agent.is_visible("#kb-pane-propose") and agent.is_hidden("#kb-nav [data-pane=queue]")
    assert agent.is_hidden("#kb-nav [data-pane=drafts]") and agent.is_hidden("#kb-nav [data-pane=history]")
    agent.select_option("#kb-propose-category", "branch_service")
    agent.fill("#kb-propose-question", "网点可以停电动车吗")
    agent.fill("#kb-propose-answer", "多数网点门前设有非机动车停放区，请按指引停放。")
    agent.fill("#kb-propose-answer-en", "Most branches have a parking area for e-bikes in front.")
    agent.click("#kb-propose-form button[type=submit]")
    proposed = int(_status(agent, r"已提交草稿 #(\d+)").group(1))
    agent.wait_for_selector(f"#kb-mine tr[data-change='{proposed}'][data-status=draft]", timeout=WAIT_MS)

    checker = Api(desk.rasa_url, CHECKER)  # leave no drafts behind in the shared knowledge database
    for change_id in (own, proposed):
        assert checker.post(f"/changes/{change_id}/reject", {"comment": "浏览器测试清理"}).status_code == 200
    agent.click("#kb-nav [data-pane=propose]")
    agent.wait_for_selector(f"#kb-mine tr[data-change='{proposed}'][data-status=rejected]", timeout=WAIT_MS)
    assert approver.errors == [] and agent.errors == []
