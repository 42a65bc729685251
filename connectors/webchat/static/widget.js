/* 示例银行 web chat widget. Speaks the rasa-webchat socket.io protocol; no third-party code
   except the vendored socket.io client. Bot text is always inserted as text, never as HTML. */
(function (global) {
  "use strict";
  var STORAGE_KEY = "shili_webchat_session";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function mount(container, options) {
    options = options || {};
    var root = el("div", "sw-root");
    var header = el("div", "sw-header");
    header.appendChild(el("span", null, "示例银行 在线客服"));
    var status = el("span", "sw-status", "连接中…");
    header.appendChild(status);
    var log = el("div", "sw-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    var typing = el("div", "sw-typing");
    var form = el("form", "sw-form");
    var input = el("input", "sw-input");
    input.placeholder = "请输入您的问题，例如：信用卡还款日是哪天";
    input.maxLength = 2000;
    input.setAttribute("aria-label", "消息");
    var send = el("button", "sw-send", "发送");
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    root.appendChild(header);
    root.appendChild(log);
    root.appendChild(typing);
    root.appendChild(form);
    container.appendChild(root);

    var sessionId = null;
    var typingTimer = null;
    var socket = global.io(options.server || location.origin, {
      path: options.path || "/socket.io",
      transports: ["websocket", "polling"],
      auth: options.token ? { token: options.token } : {},
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 15000,
      randomizationFactor: 0.5
    });

    function scroll() { log.scrollTop = log.scrollHeight; }

    function setTyping(on, label) {
      clearTimeout(typingTimer);
      typing.textContent = on ? (label || "客服正在输入…") : "";
      if (on) typingTimer = setTimeout(function () { typing.textContent = ""; }, 15000);
    }

    function notice(text) { log.appendChild(el("div", "sw-notice", text)); scroll(); }

    function addButtons(buttons) {
      var row = el("div", "sw-buttons");
      buttons.forEach(function (b) {
        var button = el("button", "sw-button", b.title);
        button.type = "button";
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(row.children, function (c) { c.disabled = true; });
          say(b.title, b.payload || b.title);
        });
        row.appendChild(button);
      });
      log.appendChild(row);
    }

    function addMessage(sender, text, extra) {
      extra = extra || {};
      var cls = sender === "user" ? "sw-user" : (extra.agent ? "sw-agent" : "sw-bot");
      var row = el("div", "sw-msg " + cls);
      var column = el("div");
      if (extra.agent) column.appendChild(el("div", "sw-sender", "人工客服 " + extra.agent));
      if (text) column.appendChild(el("div", "sw-bubble", text));
      if (extra.image) {
        var img = el("img", "sw-image");
        img.src = extra.image;
        img.alt = "图片";
        column.appendChild(img);
      }
      row.appendChild(column);
      log.appendChild(row);
      if (extra.buttons && extra.buttons.length) addButtons(extra.buttons);
      scroll();
    }

    // The server sends bot text as markdown for the stock rasa-webchat widget (metadata.markdown):
    // escaped characters and "  \n" hard breaks. This widget shows plain text, so undo exactly that.
    function plain(message) {
      var text = message.text;
      if (!text || !(message.metadata && message.metadata.markdown)) return text;
      return text.replace(/ {2}\n/g, "\n").replace(/\\([\\`*_\[\]~#>+\-.)])/g, "$1");
    }

    function renderBot(message) {
      setTyping(false);
      var metadata = message.metadata || {};
      var text = plain(message);
      if (metadata.notice) {  // agent desk notices come as plain text (rasa-webchat drops custom payloads)
        notice(text);
        root.setAttribute("data-human", /已接入/.test(text) ? "yes" : "no");
        return;
      }
      var image = message.attachment && message.attachment.type === "image" ? message.attachment.payload.src : message.image;
      var buttons = message.buttons || message.quick_replies || [];
      addMessage("bot", text, { buttons: buttons, image: image, agent: metadata.agent });
    }

    function say(shown, payload) {
      if (!sessionId) { notice("正在连接，请稍候再发送"); return; }
      addMessage("user", shown);
      socket.emit("user_uttered", { message: payload, session_id: sessionId });
      setTyping(true);
    }

    socket.on("connect", function () {
      status.textContent = "在线";
      var stored = null;
      try { stored = global.localStorage.getItem(STORAGE_KEY); } catch (e) { stored = null; }
      socket.emit("session_request", { session_id: sessionId || stored });
    });
    socket.on("disconnect", function () { status.textContent = "连接断开，正在重连…"; });
    socket.io.on("reconnect_attempt", function (n) { status.textContent = "正在重连（第" + n + "次）…"; });
    socket.on("session_confirm", function (id) {
      var confirmed = typeof id === "string" ? id : id && id.session_id;
      var resumed = confirmed === sessionId;
      sessionId = confirmed;
      try { global.localStorage.setItem(STORAGE_KEY, sessionId); } catch (e) { /* private mode */ }
      root.setAttribute("data-session", sessionId);
      if (resumed) return;
    });
    socket.on("session_history", function (data) {
      if (log.getAttribute("data-loaded") === data.session_id) return;
      log.textContent = "";
      log.setAttribute("data-loaded", data.session_id);
      (data.messages || []).forEach(function (m) {
        if (m.sender === "user") addMessage("user", m.text);
        else if (m.notice) notice(m.text);
        else addMessage("bot", m.text, { buttons: [], agent: m.agent });
      });
      if (!data.messages || !data.messages.length) {
        addMessage("bot", "您好，我是示例银行智能客服，请问有什么可以帮您？");
      } else {
        notice("以上为历史消息");
      }
    });
    socket.on("bot_uttered", renderBot);
    socket.on("agent_typing", function (data) {
      setTyping(true, "人工客服" + ((data && data.agent) ? " " + data.agent : "") + "正在输入…");
    });
    socket.on("webchat_error", function (e) { setTyping(false); notice("发送失败：" + (e && e.message)); });

    var typingSentAt = 0;
    input.addEventListener("input", function () {
      if (sessionId && Date.now() - typingSentAt > 2000) {
        typingSentAt = Date.now();
        socket.emit("user_typing", { session_id: sessionId });
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      say(text, text);
    });

    return { socket: socket, root: root, say: say };
  }

  global.ShiliWebchat = { mount: mount };
})(window);
