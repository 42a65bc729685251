/* Agent console. All customer text is inserted as text (never HTML); the server masks personal data. */
(function () {
  "use strict";
  var token = sessionStorage.getItem("desk_token");
  var me = null, current = null, socket = null, typingSent = 0, callTimer = null;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: Object.assign({ "Content-Type": "application/json" }, token ? { Authorization: "Bearer " + token } : {}),
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().then(function (data) {
        if (r.status === 401) { logout(); }
        if (!r.ok) { throw new Error(data.error || r.status); }
        return data;
      });
    });
  }

  function showLogin() {
    $("login-view").hidden = false; $("desk-view").hidden = true; $("logout").hidden = true;
    $("tabs").hidden = true; $("dashboard-view").hidden = true; $("knowledge-view").hidden = true;
    window.DeskDashboard.reset();
    window.DeskKnowledge.reset();
  }

  // The dashboard tab exists only for supervisors (the API answers 403 to anyone else anyway); the
  // knowledge tab is 知识审核 for editors, approvers and supervisors, and an agent's 知识建议 form.
  function showTab(name) {
    var dashboard = name === "dashboard" && me !== null && me.role === "supervisor";
    var knowledge = name === "knowledge" && me !== null;
    $("desk-view").hidden = dashboard || knowledge; $("dashboard-view").hidden = !dashboard;
    $("knowledge-view").hidden = !knowledge;
    [["tab-desk", !dashboard && !knowledge], ["tab-dashboard", dashboard], ["tab-knowledge", knowledge]].forEach(function (t) {
      $(t[0]).classList.toggle("active", t[1]); $(t[0]).setAttribute("aria-selected", String(t[1]));
    });
    if (dashboard) window.DeskDashboard.open(api);
    if (knowledge) window.DeskKnowledge.open(api, me);
  }

  // The server ended this session (logout elsewhere, expiry, password reset, account disabled).
  function sessionEnded() {
    token = null; sessionStorage.removeItem("desk_token");
    if (socket) { socket.disconnect(); socket = null; }
    current = null;
    $("login-error").textContent = "登录已失效，请重新登录。";
    showLogin();
  }

  function logout() {
    if (token) { fetch("/agent/api/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }); }
    token = null; sessionStorage.removeItem("desk_token");
    if (socket) { socket.disconnect(); socket = null; }
    showLogin();
  }

  function start() {
    api("GET", "/agent/api/me").then(function (data) {
      me = data;
      $("whoami").textContent = data.username + (data.role === "supervisor" ? "（主管）" : "") +
        " · 客户看到：" + data.display_name;
      $("login-view").hidden = true; $("logout").hidden = false; $("tabs").hidden = false;
      $("live-section").hidden = data.role !== "supervisor";
      $("tab-dashboard").hidden = data.role !== "supervisor";
      $("tab-knowledge").hidden = false;
      $("tab-knowledge").textContent = data.role === "agent" ? "知识建议" : "知识审核";
      showTab("desk");
      $("canned").textContent = "";
      data.canned.forEach(function (text) {
        var b = el("button", null, text); b.type = "button";
        b.addEventListener("click", function () { insert(text); });
        $("canned").appendChild(b);
      });
      $("disposition").textContent = "";
      data.dispositions.forEach(function (d) { var o = el("option", null, d); o.value = d; $("disposition").appendChild(o); });
      connect();
      refreshQueue();
    }).catch(function () { showLogin(); });
  }

  function connect() {
    socket = io(location.origin, { path: "/agent/socket.io", auth: { token: token }, transports: ["websocket", "polling"] });
    socket.on("queue_changed", refreshQueue);
    socket.on("session_ended", sessionEnded);
    socket.on("disconnect", function (reason) { if (reason === "io server disconnect" && token) sessionEnded(); });
    socket.on("customer_message", function (m) {
      if (current && m.handoff_id === current) { addTurn({ sender: "customer", text: m.text }); $("typing-line").textContent = ""; }
      refreshQueue();
    });
    socket.on("customer_typing", function (m) { if (current && m.handoff_id === current) $("typing-line").textContent = "客户正在输入…"; });
    socket.on("assist", function (m) { if (current && m.handoff_id === current) renderSuggestions($("suggestions"), m); });
  }

  function item(h, actions) {
    var li = el("li", "item" + (h.priority === "urgent" ? " urgent" : "") + (h.id === current ? " selected" : ""));
    li.setAttribute("data-handoff", h.id);
    li.appendChild(el("div", null, "#" + h.id + " · " + h.channel + " · " + h.reason + (h.priority !== "normal" ? " · " + h.priority : "")));
    li.appendChild(el("div", "meta", (h.position ? "第" + h.position + "位 · " : "") + "等待 " + h.waiting_s + " 秒" + (h.agent ? " · " + h.agent : "") + (h.authenticated ? " · 已认证" : " · 未认证")));
    actions.forEach(function (a) {
      var b = el("button", null, a[0]); b.type = "button";
      b.addEventListener("click", function (e) { e.stopPropagation(); a[1](); });
      li.appendChild(b);
    });
    li.addEventListener("click", function () { open(h.id); });
    return li;
  }

  function refreshQueue() {
    api("GET", "/agent/api/queue").then(function (q) {
      $("waiting-count").textContent = q.waiting.length;
      $("waiting").textContent = ""; $("mine").textContent = ""; $("live").textContent = "";
      q.waiting.forEach(function (h) { $("waiting").appendChild(item(h, [["接入", function () { accept(h.id); }]])); });
      q.mine.forEach(function (h) { $("mine").appendChild(item(h, [])); });
      (q.bots || []).forEach(function (c) {
        var li = el("li", "item bot-chat");
        li.appendChild(el("div", null, "机器人会话 · " + c.channel + " · 空闲 " + c.idle_s + " 秒"));
        li.appendChild(el("div", "meta", c.last_text));
        var b = el("button", null, "接管"); b.type = "button";
        b.addEventListener("click", function () {
          api("POST", "/agent/api/takeover", { sender_id: c.sender_id }).then(function (r) { open(r.handoff_id); });
        });
        li.appendChild(b);
        $("live").appendChild(li);
      });
      (q.live || []).forEach(function (h) {
        $("live").appendChild(item(h, h.agent === me.username ? [] : [["接管", function () { act(h.id, "takeover").then(function () { open(h.id); }); }]]));
      });
    }).catch(function () {});
  }

  function accept(id) { api("POST", "/agent/api/handoffs/" + id + "/accept").then(function () { open(id); refreshQueue(); }).catch(function (e) { alert("接入失败：" + e.message); refreshQueue(); }); }
  function act(id, what, body) { return api("POST", "/agent/api/handoffs/" + id + "/" + what, body); }

  function addTurn(t) {
    var div = el("div", "turn " + t.sender, (t.sender === "agent" && t.agent ? t.agent + "：" : "") + t.text);
    $("transcript").appendChild(div);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function open(id) {
    current = id;
    api("GET", "/agent/api/handoffs/" + id).then(function (d) {
      $("chat-empty").hidden = true; $("chat").hidden = false;
      $("chat-title").textContent = "#" + id + " · " + d.handoff.channel + " · " + d.handoff.reason + " · " + d.handoff.status;
      $("transcript").textContent = "";
      d.transcript.forEach(addTurn);
      var c = d.context;
      $("context").textContent = "";
      $("context").appendChild(el("div", null, c.authenticated ? "已认证客户 " + c.customer_id : "未认证客户"));
      $("context").appendChild(el("div", null, "最近流程：" + (c.last_flow || "无")));
      Object.keys(c.slots).forEach(function (k) { $("context").appendChild(el("div", "meta", k + "：" + c.slots[k])); });
      $("notes").textContent = "";
      d.notes.forEach(function (n) { $("notes").appendChild(el("li", null, n.author + "：" + n.text)); });
      var lastCustomer = d.transcript.filter(function (t) { return t.sender === "customer"; }).pop();
      if (lastCustomer) suggest(lastCustomer.text, $("suggestions"));
      refreshQueue();
    }).catch(function (err) {  // not assigned to this agent (yet): accept it first
      current = null; $("chat").hidden = true; $("chat-empty").hidden = false;
      $("chat-empty").textContent = "无法查看该会话：" + err.message;
    });
  }

  function insert(text) { $("reply").value = text; $("reply").focus(); }

  function renderSuggestions(box, s) {
    box.textContent = "";
    if (s.intent && s.intent.name) box.appendChild(el("div", "meta", "意图：" + s.intent.name + "（" + Math.round(s.intent.confidence * 100) + "%）"));
    if (s.next_step) box.appendChild(el("div", "next-step", s.next_step));
    if (s.passage) {  // the bank's own document, cited: quote it, check the page
      var p = el("div", "suggestion passage");
      p.setAttribute("data-doc", s.passage.doc);
      p.appendChild(el("div", "meta", "文档 " + s.passage.doc + " · " + s.passage.section +
        (s.passage.page ? " · 第" + s.passage.page + "页" : "") + (s.passage.confident ? "" : " · 仅供参考")));
      p.appendChild(el("div", null, s.passage.citation));
      var q = el("button", null, "插入回复"); q.type = "button";
      q.addEventListener("click", function () { insert(s.passage.citation); });
      p.appendChild(q);
      box.appendChild(p);
    }
    s.suggestions.forEach(function (h) {
      var d = el("div", "suggestion");
      d.setAttribute("data-faq", h.faq_id);
      d.appendChild(el("div", "meta", h.faq_id + " · " + h.score.toFixed(2)));
      d.appendChild(el("div", null, h.answer));
      var b = el("button", null, "插入回复"); b.type = "button";
      b.addEventListener("click", function () { insert(h.answer); });
      d.appendChild(b);
      box.appendChild(d);
    });
  }

  function suggest(text, box) { api("POST", "/assist/suggest", { text: text }).then(function (s) { renderSuggestions(box, s); }).catch(function () {}); }

  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/agent/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) })
      .then(function (r) { return r.json().then(function (d) { if (!r.ok) throw new Error(d.error); return d; }); })
      .then(function (d) { token = d.token; sessionStorage.setItem("desk_token", token); $("login-error").textContent = ""; start(); })
      .catch(function (err) { $("login-error").textContent = "登录失败：" + err.message; });
  });
  $("logout").addEventListener("click", logout);
  $("tab-desk").addEventListener("click", function () { showTab("desk"); });
  $("tab-dashboard").addEventListener("click", function () { showTab("dashboard"); });
  $("tab-knowledge").addEventListener("click", function () { showTab("knowledge"); });
  $("propose-reply").addEventListener("click", function () {  // a good reply of theirs → a knowledge draft (reviewed)
    var asked = [].slice.call(document.querySelectorAll("#transcript .turn.customer")).pop();
    var replied = [].slice.call(document.querySelectorAll("#transcript .turn.agent")).pop();
    var answer = $("reply").value.trim() || (replied ? replied.textContent.replace(/^[^：]*：/, "") : "");
    window.DeskKnowledge.proposeReply(asked ? asked.textContent : "", answer, current);
    showTab("knowledge");
  }, false);
  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply").value.trim();
    if (!text || !current) return;
    act(current, "messages", { text: text }).then(function () { addTurn({ sender: "agent", agent: me.username, text: text }); $("reply").value = ""; })
      .catch(function (err) { alert("发送失败：" + err.message); });
  });
  $("reply").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("reply-form").requestSubmit(); return; }
    if (current && Date.now() - typingSent > 2000) { typingSent = Date.now(); act(current, "typing").catch(function () {}); }
  });
  $("return-bot").addEventListener("click", function () { act(current, "return").then(function () { open(current); }); });
  $("close").addEventListener("click", function () { act(current, "close", { disposition: $("disposition").value }).then(function () { open(current); }); });
  $("transfer").addEventListener("click", function () {
    act(current, "transfer", { to: $("transfer-to").value.trim() }).then(function () { current = null; $("chat").hidden = true; $("chat-empty").hidden = false; refreshQueue(); })
      .catch(function (err) { alert("转接失败：" + err.message); });
  });
  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("note").value.trim();
    if (!text || !current) return;
    act(current, "notes", { text: text }).then(function (d) {
      $("notes").textContent = ""; d.notes.forEach(function (n) { $("notes").appendChild(el("li", null, n.author + "：" + n.text)); }); $("note").value = "";
    });
  });
  $("call-text").addEventListener("input", function () {
    clearTimeout(callTimer);
    var text = $("call-text").value.trim();
    if (!text) return;
    callTimer = setTimeout(function () { suggest(text, $("call-suggestions")); }, 400);
  });

  if (token) start(); else showLogin();
})();
