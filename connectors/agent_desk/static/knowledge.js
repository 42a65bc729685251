/* Knowledge review (知识审核): the review queue of clustered unanswered questions, drafts of the three
   change kinds, maker-checker decisions, revision history and rollback, over /agent/api/knowledge/*.
   Editors, approvers and supervisors see every pane; agents only propose a draft and follow their own.
   The server enforces roles and maker-checker; the page only hides what a role cannot use and shows the
   server's own error message when it refuses. Every text from the API (customers' questions above all)
   goes into the page as text (textContent), never as HTML. console.js calls open/reset/proposeReply. */
(function () {
  "use strict";
  var BASE = "/agent/api/knowledge";
  var DAY = /^\d{4}-\d{2}-\d{2}$/;
  var DEFAULT_DAYS = 7;
  var CAPABILITIES = { agent: ["draft"], editor: ["draft", "edit"], approver: ["draft", "edit", "approve"],
                       supervisor: ["draft", "edit", "approve", "report"] };  // as connectors/agent_desk/store.py
  var CATEGORIES = [["account", "账户"], ["debit_card", "借记卡"], ["credit_card", "信用卡"], ["transfer", "转账汇款"],
                    ["mobile_banking", "手机银行"], ["loan", "贷款"], ["deposit_wealth", "存款理财"],
                    ["payment", "缴费支付"], ["forex", "外汇"], ["security", "安全"], ["branch_service", "网点服务"],
                    ["fees_other", "收费及其他"]];
  var KINDS = { add_paraphrases: "添加相似问法", edit_answer: "修改答案", new_entry: "新建知识条目" };
  var STATUSES = { draft: "待审批", approved: "已批准", rejected: "已驳回", rolled_back: "已回滚" };
  var ACTIONS = { draft: "提交草稿", approve: "批准", reject: "驳回", rollback: "回滚", publish: "发布上线" };
  var FIELDS = { id: "条目 ID", category: "分类", question: "标准问题", answer: "答案", answer_en: "英文答案",
                 paraphrases: "相似问法" };
  var OUTCOMES = { no_answer: "未能回答", clarify: "需要澄清", low_rated: "评价较低" };
  var api = null, me = null, pane = null, seq = 0;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, text, attrs) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = text;
    Object.keys(attrs || {}).forEach(function (name) { n.setAttribute(name, attrs[name]); });
    return n;
  }

  function button(text, onClick, attrs) {
    var b = el("button", text, Object.assign({ type: "button" }, attrs || {}));
    b.addEventListener("click", onClick);
    return b;
  }

  function can(capability) { return !!me && (CAPABILITIES[me.role] || []).indexOf(capability) >= 0; }
  function categoryName(id) { var c = CATEGORIES.filter(function (c) { return c[0] === id; })[0]; return c ? c[1] : id; }
  function when(epoch) { return epoch ? new Date(epoch * 1000).toLocaleString("zh-CN", { hour12: false }) : "—"; }
  function shown(value) {
    if (value === null || value === undefined || value === "") return "（无）";
    if (Array.isArray(value)) return value.length ? value.join("\n") : "（无）";
    return String(value);
  }

  function say(status, error) {
    $("kb-status").textContent = status || "";
    $("kb-error").textContent = error || "";
  }
  function failed(prefix) { return function (err) { say("", prefix + err.message); }; }

  function categorySelect(select, value) {
    select.textContent = "";
    CATEGORIES.forEach(function (c) { var o = el("option", c[1], { value: c[0] }); select.appendChild(o); });
    if (value) select.value = value;
    return select;
  }

  function published(data) {  // the approve/rollback answer: which index is live now
    var p = data.published || {};
    return "版本 " + p.revision + " 已上线（索引版本 " + p.index_version + "，共 " + p.entries + " 条知识）";
  }

  function propose(body, then) {
    say("提交中…");
    return api("POST", BASE + "/changes", body).then(function (r) {
      say("已提交草稿 #" + r.id + "（" + KINDS[body.kind] + "），等待审批人批准后上线。");
      if (then) then(r);
      return r;
    }).catch(failed("提交失败："));
  }

  // --- entries search (for paraphrases and answer edits) -----------------------------------
  function searchEntries(q) {
    return api("GET", BASE + "/entries?q=" + encodeURIComponent(q || "")).then(function (r) { return r.entries; });
  }

  function entryPicker(initial) {  // {node, value()}: a select of entries with a search box
    var box = el("div", null, { "class": "kb-picker" });
    var input = el("input", null, { placeholder: "搜索其他条目（ID 或问题）", size: "24", "class": "kb-entry-q" });
    var select = el("select", null, { "class": "kb-entry" });
    if (initial) select.appendChild(el("option", initial.question + "（" + initial.faq_id + "）", { value: initial.faq_id }));
    var find = button("搜索", function () {
      searchEntries(input.value.trim()).then(function (entries) {
        select.textContent = "";
        entries.forEach(function (e) { select.appendChild(el("option", e.question + "（" + e.id + "）", { value: e.id })); });
        if (!entries.length) select.appendChild(el("option", "没有找到条目", { value: "" }));
      }).catch(failed("搜索失败："));
    }, { "class": "kb-entry-find" });
    var label = el("label", "挂到知识条目");
    label.appendChild(select);
    box.appendChild(label);
    box.appendChild(input); box.appendChild(find);
    return { node: box, value: function () { return select.value; } };
  }

  // --- 待处理问题: the review queue -------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }

  function setDefaultRange() {
    var today = new Date();
    $("kb-to").value = localDay(today);
    $("kb-from").value = localDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - DEFAULT_DAYS + 1));
  }

  function loadQueue() {
    var from = $("kb-from").value, to = $("kb-to").value, channel = $("kb-channel").value, mine = ++seq;
    var view = $("kb-pane-queue");
    if (!DAY.test(from) || !DAY.test(to)) { say("", "请选择开始日期和结束日期"); return; }
    if (from > to) { say("", "开始日期不能晚于结束日期"); return; }
    view.setAttribute("data-state", "loading"); say("聚类中…");
    api("GET", BASE + "/queue?from=" + from + "&to=" + to + (channel ? "&channel=" + encodeURIComponent(channel) : ""))
      .then(function (r) {
        if (mine !== seq) return;
        var list = $("kb-clusters");
        list.textContent = "";
        if (!r.clusters.length) list.appendChild(el("p", "该时间段没有待处理的问题。", { "class": "meta" }));
        r.clusters.forEach(function (c) { list.appendChild(clusterCard(c)); });
        view.setAttribute("data-state", "ready");
        say("共 " + r.clusters.length + " 组问题（" + r.from + " 至 " + r.to + "）");
      }).catch(function (err) { if (mine === seq) { view.setAttribute("data-state", "error"); say("", "查询失败：" + err.message); } });
  }

  function clusterCard(c) {
    var card = el("div", null, { "class": "kb-cluster", "data-key": c.key });
    var head = el("div", null, { "class": "kb-cluster-head" });
    head.appendChild(el("span", c.label, { "class": "kb-label" }));
    head.appendChild(el("span", c.count + " 次", { "class": "kb-count", "data-count": String(c.count) }));
    head.appendChild(el("span", Object.keys(c.outcomes).map(function (o) {
      return (OUTCOMES[o] || o) + " " + c.outcomes[o];
    }).join(" · ") + " · " + c.distinct_texts + " 种问法", { "class": "kb-outcomes" }));
    card.appendChild(head);
    var texts = el("ul", null, { "class": "kb-texts" });
    c.texts.forEach(function (t) {
      var li = el("li"), label = el("label");
      var box = el("input", null, { type: "checkbox", "class": "kb-pick" });
      box.checked = true; box.value = t.text;
      label.appendChild(box); label.appendChild(el("span", t.text, { "class": "kb-text-value" }));
      label.appendChild(el("span", "×" + t.count, { "class": "meta" }));
      li.appendChild(label); texts.appendChild(li);
    });
    card.appendChild(texts);
    var n = c.nearest_entry;
    card.appendChild(el("div", n ? "最接近的知识：" + n.question + "（" + n.faq_id + "，相似度 " + n.similarity + "）"
                                 : "没有接近的知识条目", { "class": "kb-nearest" }));
    var composer = el("div", null, { "class": "kb-composer", hidden: "" });
    var picked = function () {
      return [].slice.call(texts.querySelectorAll("input.kb-pick:checked")).map(function (b) { return b.value; });
    };
    var actions = el("div", null, { "class": "kb-actions" });
    actions.appendChild(button("添加为相似问法", function () { paraphraseComposer(composer, c, picked); }, { "class": "kb-attach" }));
    actions.appendChild(button("新建知识条目", function () { newEntryComposer(composer, c, picked); }, { "class": "kb-new" }));
    card.appendChild(actions);
    card.appendChild(composer);
    return card;
  }

  function paraphraseComposer(box, c, picked) {
    box.textContent = ""; box.hidden = false;
    var picker = entryPicker(c.nearest_entry);
    box.appendChild(el("div", "勾选的问法将作为相似问法加到所选条目。", { "class": "meta" }));
    box.appendChild(picker.node);
    box.appendChild(button("提交草稿", function () {
      var texts = picked();
      if (!picker.value()) { say("", "请选择一个知识条目"); return; }
      if (!texts.length) { say("", "请至少勾选一个问法"); return; }
      propose({ kind: "add_paraphrases", entry_id: picker.value(), paraphrases: texts, source: "cluster:" + c.key },
              function () { box.hidden = true; });
    }, { "class": "kb-submit" }));
  }

  function newEntryComposer(box, c, picked) {
    box.textContent = ""; box.hidden = false;
    var form = el("form", null, { "class": "kb-new-form" });
    var field = function (label, node) { var l = el("label", label); l.appendChild(node); form.appendChild(l); return node; };
    var category = field("分类", categorySelect(el("select", null, { "class": "kb-category" }),
                                               c.nearest_entry ? c.nearest_entry.faq_id.split(".")[0] : ""));
    var question = field("标准问题", el("input", null, { "class": "kb-question", maxlength: "200", required: "" }));
    question.value = c.label;
    var answer = field("答案", el("textarea", null, { "class": "kb-answer", rows: "4", maxlength: "2000", required: "" }));
    var answerEn = field("英文答案", el("textarea", null, { "class": "kb-answer-en", rows: "3", maxlength: "2000", required: "" }));
    form.appendChild(el("div", "其余勾选的问法将作为相似问法一并提交。", { "class": "meta" }));
    form.appendChild(el("button", "提交草稿", { type: "submit", "class": "kb-submit" }));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = question.value.trim();
      propose({ kind: "new_entry", category: category.value, question: q, answer: answer.value.trim(),
                answer_en: answerEn.value.trim(), paraphrases: picked().filter(function (t) { return t !== q; }),
                source: "cluster:" + c.key }, function () { box.hidden = true; });
    });
    box.appendChild(form);
  }

  // --- 修改答案 ------------------------------------------------------------------------------
  function findForEdit() {
    var list = $("kb-edit-results");
    searchEntries($("kb-edit-q").value.trim()).then(function (entries) {
      list.textContent = "";
      if (!entries.length) list.appendChild(el("li", "没有找到条目", { "class": "meta" }));
      entries.forEach(function (e) {
        var li = el("li", null, { "data-entry": e.id });
        li.appendChild(el("span", "[" + categoryName(e.category) + "] " + e.question + "（" + e.id + "）"));
        li.appendChild(button("修改答案", function () { editEntry(e); }));
        list.appendChild(li);
      });
    }).catch(failed("搜索失败："));
  }

  function editEntry(e) {
    var form = $("kb-edit-form");
    form.hidden = false;
    form.setAttribute("data-entry", e.id);
    $("kb-edit-title").textContent = e.question + "（" + e.id + "）";
    $("kb-edit-current").textContent = e.answer;
    $("kb-edit-answer").value = e.answer;
    $("kb-edit-answer-en").value = "";
  }

  function submitEdit(ev) {
    ev.preventDefault();
    var form = $("kb-edit-form"), body = { kind: "edit_answer", entry_id: form.getAttribute("data-entry"),
                                           answer: $("kb-edit-answer").value.trim(), source: "editor" };
    if ($("kb-edit-answer-en").value.trim()) body.answer_en = $("kb-edit-answer-en").value.trim();
    propose(body, function () { form.hidden = true; });
  }

  // --- 待审批: drafts and decisions ---------------------------------------------------------
  function loadChanges() {
    var status = $("kb-drafts-status").value, mine = ++seq, view = $("kb-pane-drafts");
    view.setAttribute("data-state", "loading");
    api("GET", BASE + "/changes" + (status ? "?status=" + status : "")).then(function (r) {
      return Promise.all(r.changes.slice(0, 30).map(function (c) {
        return api("GET", BASE + "/changes/" + c.id).catch(function () { return c; });
      })).then(function (details) {
        if (mine !== seq) return;
        var list = $("kb-changes");
        list.textContent = "";
        if (!details.length) list.appendChild(el("p", "没有" + (STATUSES[status] || "") + "的变更。", { "class": "meta" }));
        details.forEach(function (c) { list.appendChild(changeCard(c)); });
        view.setAttribute("data-state", "ready");
      });
    }).catch(function (err) { if (mine === seq) { view.setAttribute("data-state", "error"); say("", "加载失败：" + err.message); } });
  }

  function summary(c) {
    var p = c.payload || {};
    if (c.kind === "new_entry") return "[" + categoryName(p.category) + "] " + p.question;
    if (c.kind === "add_paraphrases") return (p.paraphrases || []).join(" / ");
    return p.answer;
  }

  function changeCard(c) {
    var card = el("div", null, { "class": "kb-change", "data-change": String(c.id), "data-status": c.status });
    var head = el("div", null, { "class": "kb-change-head" });
    head.appendChild(el("strong", "#" + c.id + " " + (KINDS[c.kind] || c.kind)));
    head.appendChild(el("span", c.entry_id, { "class": "kb-entry-id" }));
    head.appendChild(el("span", STATUSES[c.status] || c.status, { "class": "kb-status-badge", "data-status": c.status }));
    head.appendChild(el("span", "提交人 " + c.maker + " · " + when(c.made_at) + (c.source ? " · 来源 " + c.source : ""),
                        { "class": "meta kb-maker" }));
    if (c.checker) head.appendChild(el("span", "审批人 " + c.checker + " · " + when(c.checked_at) +
                                        (c.revision ? " · 版本 " + c.revision : ""), { "class": "meta" }));
    card.appendChild(head);
    card.appendChild(el("div", summary(c), { "class": "kb-summary" }));
    if (Array.isArray(c.diff)) card.appendChild(diffTable(c.diff));
    else if (c.diff && c.diff.error) card.appendChild(el("p", c.diff.error, { "class": "error kb-diff-error" }));
    if (c.audit) {
      var trail = el("ul", null, { "class": "kb-audit" });
      c.audit.forEach(function (a) {
        var detail = a.detail && a.detail.comment ? "：" + a.detail.comment : "";
        trail.appendChild(el("li", when(a.at) + " · " + a.actor + " · " + (ACTIONS[a.action] || a.action) + detail,
                             { "data-action": a.action }));
      });
      card.appendChild(el("div", "审计记录", { "class": "meta" }));
      card.appendChild(trail);
    }
    if (c.status === "draft") card.appendChild(decision(c));
    else if (c.comment) card.appendChild(el("div", "审批意见：" + c.comment, { "class": "meta" }));
    return card;
  }

  function diffTable(rows) {
    var table = el("table", null, { "class": "dash-table kb-table kb-diff" });
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    ["字段", "修改前", "修改后"].forEach(function (t) { head.appendChild(el("th", t)); });
    var body = table.appendChild(el("tbody"));
    rows.forEach(function (d) {
      if (shown(d.before) === shown(d.after)) return;  // e.g. no paraphrases before (null) and after ([])
      var tr = el("tr", null, { "data-field": d.field });
      tr.appendChild(el("th", FIELDS[d.field] || d.field));
      tr.appendChild(el("td", d.field === "category" && d.before ? categoryName(d.before) : shown(d.before), { "class": "before" }));
      tr.appendChild(el("td", d.field === "category" ? categoryName(d.after) : shown(d.after), { "class": "after" }));
      body.appendChild(tr);
    });
    return table;
  }

  function decision(c) {
    var box = el("div", null, { "class": "kb-actions kb-decision" });
    var own = me && c.maker === me.username;
    if (own) box.appendChild(el("span", "这是您提交的草稿：须由另一位审批人批准（四眼原则）。", { "class": "kb-own" }));
    if (!can("approve")) {
      if (!own) box.appendChild(el("span", "等待审批人（approver）批准后上线。", { "class": "meta" }));
      return box;
    }
    var comment = el("input", null, { "class": "kb-comment", placeholder: "审批意见（驳回时必填）", size: "32", maxlength: "500" });
    box.appendChild(comment);
    box.appendChild(button("批准", function () {
      say("批准中，正在重建索引…");
      api("POST", BASE + "/changes/" + c.id + "/approve", { comment: comment.value.trim() }).then(function (r) {
        say("已批准 #" + c.id + "：" + published(r));
        loadChanges();
      }).catch(failed("批准失败："));
    }, { "class": "kb-approve" }));
    box.appendChild(button("驳回", function () {
      if (!comment.value.trim()) { say("", "驳回需填写审批意见"); comment.focus(); return; }
      api("POST", BASE + "/changes/" + c.id + "/reject", { comment: comment.value.trim() }).then(function () {
        say("已驳回 #" + c.id);
        loadChanges();
      }).catch(failed("驳回失败："));
    }, { "class": "kb-reject" }));
    return box;
  }

  // --- 版本历史 ------------------------------------------------------------------------------
  function loadHistory() {
    var mine = ++seq, view = $("kb-pane-history");
    view.setAttribute("data-state", "loading");
    Promise.all([api("GET", BASE + "/revisions"), api("GET", BASE + "/changes")]).then(function (r) {
      if (mine !== seq) return;
      var revisions = r[0], changes = {};
      r[1].changes.forEach(function (c) { changes[c.id] = c; });
      var body = $("kb-revisions").tBodies[0];
      body.textContent = "";
      revisions.revisions.concat([{ id: 0, kind: "initial" }]).forEach(function (v) {
        body.appendChild(revisionRow(v, revisions.live, changes));
      });
      view.setAttribute("data-state", "ready");
    }).catch(function (err) { if (mine === seq) { view.setAttribute("data-state", "error"); say("", "加载失败：" + err.message); } });
  }

  function revisionRow(v, live, changes) {
    var tr = el("tr", null, { "data-revision": String(v.id), "class": v.id === live ? "live" : "" });
    var what;
    if (v.kind === "initial") what = "初始知识（随系统发布）";
    else if (v.kind === "rollback") what = "回滚到版本 " + v.rolled_back_to;
    else {
      var c = changes[v.change_id];
      what = "批准变更 #" + v.change_id + (c ? "：" + (KINDS[c.kind] || c.kind) + " " + c.entry_id : "");
    }
    tr.appendChild(el("td", String(v.id)));
    tr.appendChild(el("td", what));
    tr.appendChild(el("td", v.actor || "—"));
    tr.appendChild(el("td", when(v.at)));
    tr.appendChild(el("td", v.index_version || "—", { "class": "kb-index-version" }));
    var state = el("td");
    if (v.id === live) state.appendChild(el("span", "当前线上", { "class": "kb-live" }));
    tr.appendChild(state);
    var act = el("td");
    if (can("approve") && v.id !== live && v.id < live) {
      act.appendChild(button("回滚到此版本", function () {
        if (!window.confirm("确定把知识回滚到版本 " + v.id + " 吗？之后批准的变更将下线（历史记录保留）。")) return;
        say("回滚中，正在重建索引…");
        api("POST", BASE + "/rollback", { revision: v.id }).then(function (r) {
          say("已回滚到版本 " + r.rolled_back_to + "：" + published(r));
          loadHistory();
        }).catch(failed("回滚失败："));
      }, { "class": "kb-rollback" }));
    }
    tr.appendChild(act);
    return tr;
  }

  // --- 提交知识建议 (every role) -------------------------------------------------------------
  function loadMine() {
    var mine = ++seq, view = $("kb-pane-propose");
    api("GET", BASE + "/changes").then(function (r) {
      if (mine !== seq) return;
      var body = $("kb-mine").tBodies[0];
      body.textContent = "";
      var own = r.changes.filter(function (c) { return c.maker === me.username; });
      if (!own.length) body.appendChild(el("tr")).appendChild(el("td", "暂无建议", { colspan: "5", "class": "empty" }));
      own.forEach(function (c) {
        var tr = el("tr", null, { "data-change": String(c.id), "data-status": c.status });
        tr.appendChild(el("td", "#" + c.id));
        tr.appendChild(el("td", summary(c)));
        tr.appendChild(el("td", when(c.made_at)));
        tr.appendChild(el("td")).appendChild(el("span", STATUSES[c.status] || c.status,
                                                 { "class": "kb-status-badge", "data-status": c.status }));
        tr.appendChild(el("td", c.comment || ""));
        body.appendChild(tr);
      });
      view.setAttribute("data-state", "ready");
    }).catch(failed("加载失败："));
  }

  function submitProposal(e) {
    e.preventDefault();
    propose({ kind: "new_entry", category: $("kb-propose-category").value, question: $("kb-propose-question").value.trim(),
              answer: $("kb-propose-answer").value.trim(), answer_en: $("kb-propose-answer-en").value.trim(),
              source: $("kb-propose-source").value }, function () {
      ["kb-propose-question", "kb-propose-answer", "kb-propose-answer-en"].forEach(function (id) { $(id).value = ""; });
      $("kb-propose-source").value = "agent_reply";
      loadMine();
    });
  }

  // --- panes ----------------------------------------------------------------------------------
  var LOADERS = { queue: loadQueue, edit: function () {}, drafts: loadChanges, history: loadHistory, propose: loadMine };

  function show(name) {
    pane = name;
    [].forEach.call(document.querySelectorAll("#kb-nav .kb-pane-tab"), function (b) {
      b.classList.toggle("active", b.getAttribute("data-pane") === name);
    });
    Object.keys(LOADERS).forEach(function (p) { $("kb-pane-" + p).hidden = p !== name; });
    say("", "");
    LOADERS[name]();
  }

  function open(apiCall, who) {
    api = apiCall; me = who;
    $("kb-title").textContent = can("edit") ? "知识审核" : "知识建议";
    [].forEach.call(document.querySelectorAll("#kb-nav .kb-pane-tab"), function (b) {
      b.hidden = !can(b.getAttribute("data-needs"));
    });
    if (!$("kb-from").value || !$("kb-to").value) setDefaultRange();
    show(pane && (can("edit") || pane === "propose") ? pane : (can("edit") ? "queue" : "propose"));
  }

  function proposeReply(question, answer, handoffId) {  // an agent's good reply → a draft, via the form
    $("kb-propose-question").value = question || "";
    $("kb-propose-answer").value = answer || "";
    $("kb-propose-source").value = "agent_reply" + (handoffId ? ":" + handoffId : "");
    pane = "propose";  // console.js opens the tab next
  }

  function reset() {  // logout: nothing of one user's view stays for the next user of the page
    seq++; api = null; me = null; pane = null;
    ["kb-clusters", "kb-changes", "kb-edit-results"].forEach(function (id) { $(id).textContent = ""; });
    [$("kb-revisions"), $("kb-mine")].forEach(function (t) { t.tBodies[0].textContent = ""; });
    ["kb-from", "kb-to", "kb-edit-q", "kb-propose-question", "kb-propose-answer", "kb-propose-answer-en"]
      .forEach(function (id) { $(id).value = ""; });
    $("kb-edit-form").hidden = true;
    say("", "");
  }

  categorySelect($("kb-propose-category"));
  [].forEach.call(document.querySelectorAll("#kb-nav .kb-pane-tab"), function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-pane")); });
  });
  $("kb-queue-filter").addEventListener("submit", function (e) { e.preventDefault(); loadQueue(); });
  $("kb-edit-search").addEventListener("submit", function (e) { e.preventDefault(); findForEdit(); });
  $("kb-edit-form").addEventListener("submit", submitEdit);
  $("kb-drafts-filter").addEventListener("submit", function (e) { e.preventDefault(); loadChanges(); });
  $("kb-history-filter").addEventListener("submit", function (e) { e.preventDefault(); loadHistory(); });
  $("kb-propose-form").addEventListener("submit", submitProposal);

  window.DeskKnowledge = { open: open, reset: reset, proposeReply: proposeReply };
})();
