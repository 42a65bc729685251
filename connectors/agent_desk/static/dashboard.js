/* Supervisors' dashboard (数据看板): GET /agent/api/analytics/summary as charts, tables and a CSV file.
   Every text from the API goes into the page as text (textContent), never as HTML: the unanswered
   questions are customers' own words. ECharts is vendored from npm (scripts/vendor_widget.sh), served
   by the desk and loaded only when a supervisor opens the dashboard. console.js calls open/reset. */
(function () {
  "use strict";
  var ECHARTS_URL = "/agent/vendor/echarts.min.js";
  var DAY = /^\d{4}-\d{2}-\d{2}$/;
  var DEFAULT_DAYS = 7;
  var CHANNELS = { all: "全部渠道", webchat: "网页聊天", wechat: "微信", rest: "REST" };
  var REASONS = { request_human: "客户要求人工", fallback: "多次未能理解", complaint: "投诉", fraud_report: "欺诈举报",
                  agent_takeover: "主管接管", callback: "回电工单" };
  var INTENTS = { report_card_loss: "挂失", transfer_money: "转账", check_balance: "查询余额",
                  query_transactions: "查询交易", credit_card_bill: "信用卡账单", credit_card_repay: "信用卡还款",
                  apply_credit_card: "申请信用卡", loan_inquiry: "贷款咨询", find_branch: "查找网点",
                  book_appointment: "预约办理", exchange_rate: "汇率查询", wealth_products: "理财产品",
                  reset_password: "重置密码", complaint: "投诉", fraud_report: "欺诈举报", request_human: "转人工" };
  // [path in the report, label, format: "number" or "rate"]: the KPI table and the CSV's overview rows.
  var KPIS = [
    ["conversations", "会话数", "number"], ["contained", "自助解决数", "number"],
    ["containment_rate", "自助解决率", "rate"], ["handoffs", "转人工数", "number"],
    ["handoff_rate", "转人工率", "rate"], ["customer_messages", "客户消息数", "number"],
    ["no_answer_rate", "未答率", "rate"], ["clarification_rate", "澄清率", "rate"],
    ["clarifications", "澄清次数", "number"], ["picked_from_menu", "从菜单选择次数", "number"],
    ["csat_avg", "满意度（平均分）", "number"], ["csat_answers", "满意度评价数", "number"],
    ["csat_bot.avg", "智能客服满意度", "number"], ["csat_bot.answers", "智能客服评价数", "number"],
    ["csat_agent.avg", "人工服务满意度", "number"], ["csat_agent.answers", "人工服务评价数", "number"],
    ["low_rated", "低分会话中的知识回答", "number"],
    ["desk.handoffs", "人工会话数", "number"], ["desk.accepted", "已接入人工数", "number"],
    ["desk.wait_s.p50", "排队等待 P50（秒）", "number"], ["desk.wait_s.p95", "排队等待 P95（秒）", "number"],
    ["desk.handle_s.p50", "人工处理时长 P50（秒）", "number"], ["desk.handle_s.p95", "人工处理时长 P95（秒）", "number"],
    ["latency_ms.p50", "机器人响应 P50（毫秒）", "number"], ["latency_ms.p95", "机器人响应 P95（毫秒）", "number"],
    ["latency_ms.p99", "机器人响应 P99（毫秒）", "number"], ["latency_ms.turns", "计时轮次", "number"]
  ];
  var CARDS = ["conversations", "containment_rate", "handoff_rate", "no_answer_rate", "csat_avg"];
  var FLOW_KEYS = ["started", "completed", "cancelled", "abandoned", "open", "confirmed"];
  var DAILY_KEYS = ["conversations", "contained", "handoffs"];
  var api = null, report = null, charts = {}, echartsLoad = null, requestSeq = 0;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, text, attrs) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = text;
    Object.keys(attrs || {}).forEach(function (name) { n.setAttribute(name, attrs[name]); });
    return n;
  }

  // --- values and labels --------------------------------------------------------------------
  function valueAt(r, path) {
    return path.split(".").reduce(function (v, key) { return v === null || v === undefined ? null : v[key]; }, r);
  }

  function format(value, kind) {
    if (value === null || value === undefined) return "—";
    return kind === "rate" ? (value * 100).toFixed(2) + "%" : String(value);
  }

  function kpi(path) { return KPIS.filter(function (k) { return k[0] === path; })[0]; }
  function intentLabel(intent) { return INTENTS[intent] || intent; }
  function reasonLabel(reason) { return REASONS[reason] || reason; }

  function flowIntents(r) {  // most started first, then by name
    return Object.keys(r.flows).sort(function (a, b) {
      return r.flows[b].started - r.flows[a].started || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  function reasons(r) { return Object.keys(r.handoffs_by_reason).sort(); }

  // --- dates ------------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function parseDay(text) { var p = text.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]); }

  function daysBetween(from, to) {  // every local day from..to, both included
    var days = [], d = parseDay(from), end = parseDay(to);
    while (d <= end && days.length <= 366) {
      days.push(localDay(d));
      d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1);
    }
    return days;
  }

  function setDefaultRange() {
    var today = new Date();
    $("dash-to").value = localDay(today);
    $("dash-from").value = localDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - DEFAULT_DAYS + 1));
  }

  function filters() {
    var from = $("dash-from").value, to = $("dash-to").value;
    if (!DAY.test(from) || !DAY.test(to)) throw new Error("请选择开始日期和结束日期");
    if (from > to) throw new Error("开始日期不能晚于结束日期");
    return { from: from, to: to, channel: $("dash-channel").value };
  }

  // --- tables -----------------------------------------------------------------------------
  function fill(table, rows, columns) {
    var body = table.tBodies[0];
    body.textContent = "";
    if (!rows.length) {
      body.appendChild(el("tr")).appendChild(el("td", "暂无数据", { colspan: columns, "class": "empty" }));
    }
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function row(cells, attrs) {
    var tr = el("tr", null, attrs);
    cells.forEach(function (cell) { tr.appendChild(el(cell[0], cell[1], cell[2])); });
    return tr;
  }

  function renderKpis(r) {
    fill($("dash-kpis"), KPIS.map(function (k) {
      return row([["th", k[1]], ["td", format(valueAt(r, k[0]), k[2]), { "data-key": k[0] }]]);
    }), 2);
    var cards = $("dash-cards");
    cards.textContent = "";
    CARDS.forEach(function (path) {
      var card = el("div", null, { "class": "kpi", "data-key": path });
      card.appendChild(el("div", format(valueAt(r, path), kpi(path)[2]), { "class": "value" }));
      card.appendChild(el("div", kpi(path)[1], { "class": "label" }));
      cards.appendChild(card);
    });
  }

  function renderFlows(r) {
    fill($("dash-flows"), flowIntents(r).map(function (intent) {
      var flow = r.flows[intent];
      var cells = [["th", intentLabel(intent), { title: intent }]];
      FLOW_KEYS.forEach(function (key) { cells.push(["td", String(flow[key]), { "data-key": key }]); });
      cells.push(["td", format(flow.started ? flow.completed / flow.started : null, "rate"), { "data-key": "completion" }]);
      cells.push(["td", Object.keys(flow.slots_reached).map(function (slot) {
        return slot + " " + flow.slots_reached[slot];
      }).join(" · "), { "data-key": "slots_reached" }]);
      return row(cells, { "data-intent": intent });
    }), 9);
  }

  function renderLists(r) {
    fill($("dash-reasons"), reasons(r).map(function (reason) {
      return row([["td", reasonLabel(reason), { title: reason }],
                  ["td", String(r.handoffs_by_reason[reason]), { "data-key": "count" }]], { "data-reason": reason });
    }), 2);
    fill($("dash-entries"), r.top_entries.map(function (e) {
      return row([["td", e.faq_id, { "data-key": "faq_id" }], ["td", String(e.count), { "data-key": "count" }]]);
    }), 2);
    fill($("dash-unanswered"), r.top_unanswered.map(function (u) {
      return row([["td", u.text, { "data-key": "text" }], ["td", String(u.count), { "data-key": "count" }]]);
    }), 2);
  }

  // --- charts -----------------------------------------------------------------------------
  function loadECharts() {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!echartsLoad) {
      echartsLoad = new Promise(function (resolve, reject) {
        var script = el("script", null, { src: ECHARTS_URL });
        script.onload = function () { resolve(window.echarts); };
        script.onerror = function () {
          echartsLoad = null; script.remove();  // the next query tries again
          reject(new Error("图表组件加载失败（服务器需先运行 make widget），表格数据不受影响"));
        };
        document.head.appendChild(script);
      });
    }
    return echartsLoad;
  }

  function chart(id, option) {
    var instance = charts[id] || (charts[id] = window.echarts.init($(id)));
    instance.setOption(option, true);
    instance.resize();  // the window may have changed while the dashboard was hidden
  }

  function empty(hasData) {
    return hasData ? undefined : { text: "暂无数据", left: "center", top: "middle",
                                   textStyle: { color: "#999", fontSize: 14, fontWeight: "normal" } };
  }

  function renderCharts(r) {
    var byDay = {}, days = daysBetween(r.from, r.to), intents = flowIntents(r);
    (r.daily || []).forEach(function (d) { byDay[d.day] = d; });
    var grid = { left: 40, right: 16, top: 36, bottom: 28, containLabel: true };
    chart("chart-daily", { title: empty(r.conversations > 0), tooltip: { trigger: "axis" }, legend: {}, grid: grid,
      xAxis: { type: "category", data: days }, yAxis: { type: "value", minInterval: 1 },
      series: [["会话数", "conversations", "bar"], ["自助解决", "contained", "bar"], ["转人工", "handoffs", "line"]]
        .map(function (s) {
          return { name: s[0], type: s[2], data: days.map(function (day) { return byDay[day] ? byDay[day][s[1]] : 0; }) };
        }) });
    chart("chart-reasons", { title: empty(reasons(r).length > 0), tooltip: { trigger: "item" }, legend: { bottom: 0 },
      series: [{ name: "转人工原因", type: "pie", radius: ["35%", "62%"], data: reasons(r).map(function (reason) {
        return { name: reasonLabel(reason), value: r.handoffs_by_reason[reason] };
      }) }] });
    chart("chart-funnel", { title: empty(intents.length > 0), tooltip: { trigger: "axis" }, legend: {}, grid: grid,
      xAxis: { type: "category", data: intents.map(intentLabel) }, yAxis: { type: "value", minInterval: 1 },
      series: [["发起", "started"], ["完成", "completed"], ["取消", "cancelled"], ["放弃", "abandoned"]].map(function (s) {
        return { name: s[0], type: "bar", data: intents.map(function (intent) { return r.flows[intent][s[1]]; }) };
      }) });
    var latency = ["p50", "p95", "p99"].map(function (p) { var v = r.latency_ms[p]; return v === null ? "-" : v; });
    chart("chart-latency", { title: empty(r.latency_ms.turns > 0), tooltip: { trigger: "axis" }, grid: grid,
      xAxis: { type: "category", data: ["P50", "P95", "P99"] }, yAxis: { type: "value", name: "毫秒" },
      series: [{ name: "响应时延", type: "bar", data: latency, barMaxWidth: 48, label: { show: true, position: "top" } }] });
  }

  function disposeCharts() {
    Object.keys(charts).forEach(function (id) { charts[id].dispose(); });
    charts = {};
  }

  // --- CSV (built here from the same response the page shows) ------------------------------
  function csvRows(r) {
    var rows = [["分类", "项目", "指标", "数值"], ["筛选", "开始日期", "from", r.from], ["筛选", "结束日期", "to", r.to],
                ["筛选", "渠道", "channel", r.channel]];
    KPIS.forEach(function (k) { rows.push(["概览", k[1], k[0], valueAt(r, k[0])]); });
    (r.daily || []).forEach(function (d) { DAILY_KEYS.forEach(function (key) { rows.push(["每日", d.day, key, d[key]]); }); });
    reasons(r).forEach(function (reason) { rows.push(["转人工原因", reason, "handoffs", r.handoffs_by_reason[reason]]); });
    flowIntents(r).forEach(function (intent) {
      var flow = r.flows[intent];
      FLOW_KEYS.forEach(function (key) { rows.push(["流程", intent, key, flow[key]]); });
      Object.keys(flow.slots_reached).forEach(function (slot) {
        rows.push(["流程", intent, "slots_reached." + slot, flow.slots_reached[slot]]);
      });
    });
    r.top_entries.forEach(function (e) { rows.push(["热门知识", e.faq_id, "count", e.count]); });
    r.top_unanswered.forEach(function (u) { rows.push(["未解决问题", u.text, "count", u.count]); });
    return rows;
  }

  function csvField(value) {
    if (value === null || value === undefined) return "";
    var text = String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = "'" + text;  // never a spreadsheet formula
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function toCsv(r) {  // UTF-8 with a byte order mark, so Excel reads the Chinese correctly
    return "\uFEFF" + csvRows(r).map(function (cells) { return cells.map(csvField).join(","); }).join("\r\n") + "\r\n";
  }

  function exportCsv() {
    if (!report) return;
    var link = el("a", null, { download: "analytics_" + report.from + "_" + report.to + "_" + report.channel + ".csv" });
    link.href = URL.createObjectURL(new Blob([toCsv(report)], { type: "text/csv;charset=utf-8" }));
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  // --- loading ----------------------------------------------------------------------------
  function setState(state, status, error) {
    $("dashboard-view").setAttribute("data-state", state);
    $("dash-status").textContent = status || "";
    $("dash-error").textContent = error || "";
  }

  function clear() {
    report = null;
    $("dash-export").disabled = true;
    ["dash-kpis", "dash-flows", "dash-reasons", "dash-entries", "dash-unanswered"].forEach(function (id) {
      $(id).tBodies[0].textContent = "";
    });
    $("dash-cards").textContent = "";
    $("dash-chart-error").textContent = "";
    $("dashboard-view").removeAttribute("data-charts");
    disposeCharts();
  }

  function render(r, seq) {
    report = r;
    renderKpis(r); renderFlows(r); renderLists(r);
    $("dash-export").disabled = false;
    $("dash-chart-error").textContent = "";
    setState("ready", "显示 " + r.from + " 至 " + r.to + " · " + (CHANNELS[r.channel] || r.channel) +
             " · 更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false }));
    loadECharts().then(function () {
      if (seq !== requestSeq || $("dashboard-view").hidden) return;  // charts need a visible box; open() redraws
      renderCharts(r);
      $("dashboard-view").setAttribute("data-charts", "ready");
    }).catch(function (err) { $("dash-chart-error").textContent = err.message; });
  }

  function load() {
    var f, seq = ++requestSeq;
    try {
      f = filters();
    } catch (err) {
      clear(); setState("error", "", err.message);
      return;
    }
    var query = "from=" + encodeURIComponent(f.from) + "&to=" + encodeURIComponent(f.to) +
                (f.channel ? "&channel=" + encodeURIComponent(f.channel) : "");
    setState("loading", "加载中…");
    api("GET", "/agent/api/analytics/summary?" + query).then(function (r) {
      if (seq === requestSeq) render(r, seq);
    }).catch(function (err) {
      if (seq !== requestSeq) return;
      clear(); setState("error", "", "查询失败：" + err.message);
    });
  }

  function open(apiCall) {
    api = apiCall;
    if (!$("dash-from").value || !$("dash-to").value) setDefaultRange();
    load();
  }

  function reset() {  // logout: nothing of one supervisor's view stays for the next user of the page
    requestSeq++;
    clear();
    setState("", "", "");
    $("dash-from").value = ""; $("dash-to").value = ""; $("dash-channel").value = "";
  }

  $("dash-filter").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  $("dash-export").addEventListener("click", exportCsv);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });

  window.DeskDashboard = { open: open, reset: reset, toCsv: toCsv };
})();
