"""The supervisors' dashboard in the agent console (issue 17) in Chromium: after real conversations over
the REST channel, its tables, charts and CSV file show exactly what the analytics API answers for the
same filter; the channel filter goes into the request; bad dates and the API's 400s are explained;
customers' texts stay text; agents never see the dashboard. Screenshots: benchmarks/results/screenshots/."""
from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from bot.settings import REPO_ROOT
from tests.browser.conftest import DESKTOP
from tests.channels import AGENT_PASSWORD, add_agent, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ZONE = "Asia/Shanghai"  # the analytics day (ANALYTICS_TIMEZONE); the browser runs in the same zone
SCREENSHOTS = REPO_ROOT / "benchmarks" / "results" / "screenshots"
WAIT_MS = 30_000
SUPERVISOR, AGENT = "dash_chief", "dash_agent"
UNTRUSTED = '<img src=x onerror="window.__xss=1">'  # a customer's words: must stay text in the page
FORMULA = '=HYPERLINK("http://evil.example")'  # must not become a spreadsheet formula in the CSV
CONVERSATIONS = [["信用卡的免息还款期最长多少天", "谢谢"],  # answered: top_entries
                 ["附近的网点在哪", "算了不查了"],  # find_branch started and cancelled
                 ["转人工"],  # a handoff (request_human)
                 [UNTRUSTED, FORMULA], [UNTRUSTED, FORMULA]]  # not understood, twice each: top_unanswered
RATES = {"containment_rate", "handoff_rate", "no_answer_rate", "clarification_rate"}
KPI_KEYS = ["conversations", "contained", "containment_rate", "handoffs", "handoff_rate", "customer_messages",
            "no_answer_rate", "clarification_rate", "clarifications", "picked_from_menu", "csat_avg",
            "csat_answers", "csat_bot.avg", "csat_bot.answers", "csat_agent.avg", "csat_agent.answers",
            "low_rated", "desk.handoffs", "desk.accepted", "desk.wait_s.p50", "desk.wait_s.p95",
            "desk.handle_s.p50", "desk.handle_s.p95", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99",
            "latency_ms.turns"]
DAILY_KEYS = ["conversations", "contained", "handoffs"]
FLOW_KEYS = ["started", "completed", "cancelled", "abandoned", "open", "confirmed"]
CHARTS = ["chart-daily", "chart-reasons", "chart-funnel", "chart-latency"]


# --- the server side ------------------------------------------------------------------------
class Api:
    def __init__(self, url: str, username: str) -> None:
        self.url = url
        response = requests.post(f"{url}/agent/api/login", timeout=10,
                                 json={"username": username, "password": AGENT_PASSWORD})
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def summary(self, day_from: str, day_to: str, channel: str = "") -> requests.Response:
        query = f"from={day_from}&to={day_to}" + (f"&channel={channel}" if channel else "")
        return requests.get(f"{self.url}/agent/api/analytics/summary?{query}", headers=self.headers,
                            timeout=60)

    def report(self, day_from: str, day_to: str, channel: str = "") -> dict:
        response = self.summary(day_from, day_to, channel)
        assert response.status_code == 200, response.text
        return response.json()

    def waiting(self) -> set[int]:
        return {h["id"] for h in requests.get(f"{self.url}/agent/api/queue", headers=self.headers,
                                              timeout=10).json()["waiting"]}

    def close(self, handoff_id: int) -> None:
        for step, body in (("accept", {}), ("close", {"disposition": "resolved"})):
            requests.post(f"{self.url}/agent/api/handoffs/{handoff_id}/{step}", json=body,
                          headers=self.headers, timeout=30)


def today() -> str:
    return datetime.now(ZoneInfo(ZONE)).strftime("%Y-%m-%d")


def week() -> tuple[str, str]:
    """The dashboard's default range: the last 7 local days, today included."""
    end = datetime.now(ZoneInfo(ZONE))
    return (end - timedelta(days=6)).strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def desk(channel_servers):
    """Supervisor and agent accounts, and the conversations above, driven over the real REST channel."""
    add_agent(channel_servers, SUPERVISOR, role="supervisor", display_name="数据主管")
    add_agent(channel_servers, AGENT, display_name="客服小王")
    chief = Api(channel_servers.rasa_url, SUPERVISOR)
    queued = chief.waiting()
    before = chief.report(today(), today())
    for turns in CONVERSATIONS:
        sender = f"dash-{uuid.uuid4().hex[:8]}"
        for text in turns:
            requests.post(f"{channel_servers.rasa_url}/webhooks/rest/webhook", timeout=60,
                          json={"sender": sender, "message": text}).raise_for_status()

    turns = sum(map(len, CONVERSATIONS))

    def counted() -> bool:  # every turn is in the analytics tables (the broker writes in the background)
        now = chief.report(today(), today())
        return (now["conversations"] - before["conversations"] >= len(CONVERSATIONS)
                and now["customer_messages"] - before["customer_messages"] >= turns
                and now["latency_ms"]["turns"] - before["latency_ms"]["turns"] >= turns)
    assert wait_until(counted)
    yield chief
    for handoff_id in chief.waiting() - queued:  # leave the desk's queue as it was
        chief.close(handoff_id)


# --- the page -------------------------------------------------------------------------------
@pytest.fixture()
def console(browser, desk):
    """console(username): a logged-in agent console in its own browser context (closed afterwards);
    page.errors collects the page's uncaught script errors."""
    contexts = []

    def open_as(username: str):
        contexts.append(browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id=ZONE,
                                            accept_downloads=True))
        page = contexts[-1].new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{desk.url}/agent/")
        _log_in(page, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _log_in(page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", AGENT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#desk-view:not([hidden])")


def _open_dashboard(page) -> dict:
    """Clicks the tab and returns the summary the page asked for and got."""
    with page.expect_response(lambda r: "/agent/api/analytics/summary" in r.url) as answer:
        page.click("#tab-dashboard")
    page.wait_for_selector("#dashboard-view[data-charts=ready]", timeout=WAIT_MS)
    return answer.value.json()


def _query(page, channel: str) -> str:
    """Chooses a channel, presses 查询 and returns the URL the page requested."""
    page.select_option("#dash-channel", channel)
    with page.expect_request(lambda r: "/agent/api/analytics/summary" in r.url) as request:
        page.click("#dash-query")
    page.wait_for_selector("#dashboard-view[data-state=ready][data-charts=ready]", timeout=WAIT_MS)
    return request.value.url


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _value(report: dict, path: str):
    for key in path.split("."):
        report = report[key]
    return report


def _js(value) -> str:
    """A JSON number as JavaScript's String() writes it (30.0 → "30")."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _shown(value, rate: bool = False) -> str:
    """What dashboard.js shows for a value of the API."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}%" if rate else _js(value)


# What the page shows, read in one go per table (all as text: what a supervisor reads).
CELLS = "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
KEYED = "cells => cells.map(c => [c.dataset.key, c.textContent])"
CARD_VALUES = "cards => cards.map(c => [c.dataset.key, c.querySelector('.value').textContent])"
FLOW_ROWS = """rows => rows.map(r => [r.dataset.intent, Object.fromEntries(
    [...r.querySelectorAll('td[data-key]')].map(td => [td.dataset.key, td.textContent]))])"""
REASON_ROWS = "rows => rows.map(r => [r.dataset.reason, r.cells[1].textContent])"
CHART_DATA = """ids => Object.fromEntries(ids.map(id => {
    const box = document.getElementById(id), chart = window.echarts.getInstanceByDom(box);
    const canvas = box.querySelector('canvas');
    return [id, {canvas: !!canvas && canvas.width > 0 && canvas.height > 0,
                 series: chart ? chart.getOption().series.map(s => s.data) : null}];
}))"""


def _rows(page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"#{table} tbody tr", CELLS)


def _listed(rows: list[list[str]]) -> list[list[str]]:
    return rows or [["暂无数据"]]


def _intents(report: dict) -> list[str]:
    """The flows in the dashboard's order: most started first, then by name."""
    return sorted(report["flows"], key=lambda intent: (-report["flows"][intent]["started"], intent))


def assert_tables_show(page, report: dict) -> None:
    kpis = dict(page.eval_on_selector_all("#dash-kpis td[data-key]", KEYED))
    assert kpis == {key: _shown(_value(report, key), key in RATES) for key in KPI_KEYS}
    cards = dict(page.eval_on_selector_all("#dash-cards .kpi", CARD_VALUES))
    assert cards == {key: kpis[key] for key in cards} and "containment_rate" in cards
    flows = page.eval_on_selector_all("#dash-flows tr[data-intent]", FLOW_ROWS)
    assert [intent for intent, _ in flows] == _intents(report)
    for intent, cells in flows:
        flow = report["flows"][intent]
        assert {key: cells[key] for key in FLOW_KEYS} == {key: str(flow[key]) for key in FLOW_KEYS}
        completion = flow["completed"] / flow["started"] if flow["started"] else None
        assert cells["completion"] == _shown(completion, rate=True)
    assert _rows(page, "dash-entries") == _listed([[e["faq_id"], str(e["count"])]
                                                   for e in report["top_entries"]])
    assert _rows(page, "dash-unanswered") == _listed([[u["text"], str(u["count"])]
                                                      for u in report["top_unanswered"]])
    reasons = page.eval_on_selector_all("#dash-reasons tr[data-reason]", REASON_ROWS)
    assert reasons == [[reason, str(n)] for reason, n in sorted(report["handoffs_by_reason"].items())]


def assert_charts_show(page, report: dict) -> None:
    charts = page.evaluate(CHART_DATA, CHARTS)
    assert all(chart["canvas"] and chart["series"] is not None for chart in charts.values()), charts
    days = (datetime.fromisoformat(report["to"]) - datetime.fromisoformat(report["from"])).days + 1
    by_day = {row["day"]: row for row in report["daily"]}
    daily = charts["chart-daily"]["series"]
    assert [len(series) for series in daily] == [days] * 3  # every day of the range, also days without any
    assert [sum(series) for series in daily] == [report[key] for key in DAILY_KEYS]
    assert daily[0][-1] == by_day.get(report["to"], {}).get("conversations", 0)
    [reasons] = charts["chart-reasons"]["series"]
    assert [item["value"] for item in reasons] == [n for _, n in sorted(report["handoffs_by_reason"].items())]
    assert charts["chart-funnel"]["series"] == [[report["flows"][intent][key] for intent in _intents(report)]
                                                for key in ("started", "completed", "cancelled", "abandoned")]
    [latency] = charts["chart-latency"]["series"]
    assert latency == [report["latency_ms"][p] if report["latency_ms"][p] is not None else "-"
                       for p in ("p50", "p95", "p99")]


def _csv_text(value) -> str:
    """A report value as the CSV writes it: no value is empty, a text never starts a formula."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    return _js(value)


def assert_csv_holds(path, name: str, report: dict) -> None:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte order mark to read Chinese"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["分类", "项目", "指标", "数值"]
    assert name == f"analytics_{report['from']}_{report['to']}_{report['channel']}.csv"
    section: dict[str, list[tuple[str, str, str]]] = {}
    for part, item, key, value in rows[1:]:
        section.setdefault(part, []).append((item, key, value))
    assert section["筛选"] == [("开始日期", "from", report["from"]), ("结束日期", "to", report["to"]),
                               ("渠道", "channel", report["channel"])]
    assert {key: value for _, key, value in section["概览"]} == {key: _csv_text(_value(report, key))
                                                                 for key in KPI_KEYS}
    assert section.get("每日", []) == [(d["day"], key, str(d[key])) for d in report["daily"]
                                       for key in DAILY_KEYS]
    assert section.get("转人工原因", []) == [(reason, "handoffs", str(n))
                                             for reason, n in sorted(report["handoffs_by_reason"].items())]
    flows = {(intent, key): value for intent, key, value in section.get("流程", [])}
    assert flows == {**{(i, k): str(f[k]) for i, f in report["flows"].items() for k in FLOW_KEYS},
                     **{(i, f"slots_reached.{s}"): str(n) for i, f in report["flows"].items()
                        for s, n in f["slots_reached"].items()}}
    assert section.get("热门知识", []) == [(_csv_text(e["faq_id"]), "count", str(e["count"]))
                                          for e in report["top_entries"]]
    assert section.get("未解决问题", []) == [(_csv_text(u["text"]), "count", str(u["count"]))
                                            for u in report["top_unanswered"]]


def _download(page):
    with page.expect_download() as download:
        page.click("#dash-export")
    return download.value


# --- tests ----------------------------------------------------------------------------------
def test_supervisor_dashboard_shows_what_the_api_answers(console, desk):
    page = console(SUPERVISOR)
    assert page.is_visible("#tab-dashboard")
    assert page.evaluate("typeof window.echarts") == "undefined"  # loaded only when the dashboard opens
    shown = _open_dashboard(page)
    assert (page.input_value("#dash-from"), page.input_value("#dash-to")) == week()
    assert page.input_value("#dash-channel") == "" and shown["channel"] == "all"
    report = desk.report(*week())
    assert shown == report
    assert report["conversations"] >= len(CONVERSATIONS) and report["handoffs_by_reason"].get("request_human")
    assert report["flows"]["find_branch"]["cancelled"] >= 1 and report["top_entries"]
    assert {UNTRUSTED, FORMULA} <= {u["text"] for u in report["top_unanswered"]}

    assert_tables_show(page, report)
    assert_charts_show(page, report)
    assert page.evaluate("window.__xss") is None and page.locator("#dash-unanswered img").count() == 0
    _screenshot(page, "dashboard")

    download = _download(page)
    assert_csv_holds(download.path(), download.suggested_filename, report)
    assert page.errors == []


def test_the_channel_filter_goes_into_the_request_and_the_export(console, desk):
    page = console(SUPERVISOR)
    _open_dashboard(page)
    day_from, day_to = week()
    for channel in ("rest", "wechat"):
        url = _query(page, channel)
        assert f"channel={channel}" in url and f"from={day_from}" in url and f"to={day_to}" in url
        report = desk.report(day_from, day_to, channel)
        assert report["channel"] == channel
        assert_tables_show(page, report)
        assert_charts_show(page, report)
        if channel == "rest":
            assert report["conversations"] >= len(CONVERSATIONS)
            _screenshot(page, "dashboard_rest")
        download = _download(page)
        assert_csv_holds(download.path(), download.suggested_filename, report)
    assert "channel=" not in _query(page, "")  # 全部: no channel parameter
    assert page.errors == []


def test_bad_dates_are_refused_in_the_page_and_the_apis_400_is_shown(console, desk):
    page = console(SUPERVISOR)
    _open_dashboard(page)
    requested = []
    page.on("request", lambda r: "/analytics/summary" in r.url and requested.append(r.url))
    day_from, day_to = week()
    page.fill("#dash-from", day_to)
    page.fill("#dash-to", day_from)
    page.click("#dash-query")
    page.wait_for_selector("#dashboard-view[data-state=error]")
    assert page.inner_text("#dash-error") == "开始日期不能晚于结束日期" and requested == []
    assert page.is_disabled("#dash-export") and page.locator("#dash-kpis tbody tr").count() == 0

    too_early = (datetime.fromisoformat(day_to) - timedelta(days=400)).strftime("%Y-%m-%d")
    answer = desk.summary(too_early, day_to)
    assert answer.status_code == 400
    page.fill("#dash-from", too_early)
    page.fill("#dash-to", day_to)
    page.click("#dash-query")
    page.wait_for_selector("#dashboard-view[data-state=error]")
    assert page.inner_text("#dash-error") == "查询失败：" + answer.json()["error"]  # the API's own words
    assert len(requested) == 1
    assert page.is_disabled("#dash-export")
    assert page.errors == []


def test_without_the_chart_library_the_tables_still_show_and_say_how_to_fix_it(console, desk):
    page = console(SUPERVISOR)
    missing = "**/agent/vendor/echarts.min.js"
    page.route(missing, lambda route: route.fulfill(status=503, content_type="application/json",
                                                    body='{"error": "run make widget"}'))
    page.click("#tab-dashboard")
    page.wait_for_selector("#dash-chart-error:not(:empty)", timeout=WAIT_MS)
    assert "make widget" in page.inner_text("#dash-chart-error")
    assert_tables_show(page, desk.report(*week()))
    assert page.get_attribute("#dashboard-view", "data-charts") is None and page.is_enabled("#dash-export")

    page.unroute(missing)  # the next query loads the library again
    page.click("#dash-query")
    page.wait_for_selector("#dashboard-view[data-charts=ready]", timeout=WAIT_MS)
    assert page.inner_text("#dash-chart-error") == ""
    assert_charts_show(page, desk.report(*week()))
    assert page.errors == []


def test_agents_never_see_the_dashboard_not_even_after_a_supervisor_on_the_same_page(console, desk):
    page = console(SUPERVISOR)
    _open_dashboard(page)
    page.click("#logout")
    page.wait_for_selector("#login-view:not([hidden])")
    _log_in(page, AGENT)
    assert page.is_hidden("#tab-dashboard") and page.is_hidden("#dashboard-view")
    assert page.locator("#dash-kpis tbody tr, #dash-unanswered tbody tr, #dash-cards .kpi").count() == 0
    assert page.input_value("#dash-from") == ""

    fresh = console(AGENT)
    assert fresh.is_hidden("#tab-dashboard") and fresh.is_hidden("#dashboard-view")
    assert fresh.evaluate("typeof window.echarts") == "undefined"  # an agent's console never loads the charts
    assert Api(desk.url, AGENT).summary(*week()).status_code == 403
    assert page.errors == [] and fresh.errors == []


def test_the_chart_library_is_served_as_vendored_and_pinned(desk):
    from connectors.agent_desk.api import ECHARTS_FILE

    pinned = re.search(r"vendor echarts (\S+) dist/echarts\.min\.js \\\s+([0-9a-f]{64}) ",
                       (REPO_ROOT / "scripts" / "vendor_widget.sh").read_text())
    assert pinned, "scripts/vendor_widget.sh pins echarts"
    response = requests.get(f"{desk.url}/agent/vendor/echarts.min.js", timeout=30)
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert hashlib.sha256(response.content).hexdigest() == pinned.group(2)
    assert ECHARTS_FILE.parent.name == f"echarts-{pinned.group(1)}"  # the desk serves that version


def test_a_missing_chart_library_is_a_503_that_says_how_to_build_it(monkeypatch, tmp_path):
    from connectors.agent_desk import api

    monkeypatch.setattr(api, "ECHARTS_FILE", tmp_path / "echarts.min.js")
    handler = api._guarded(api.DeskApi.echarts)
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may hold this thread's event loop
        answer = pool.submit(asyncio.run, handler(None)).result()
    assert answer.status == 503 and b"make widget" in answer.body
