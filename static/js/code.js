// The code page: a clock ticking every second (a screenshot shows a frozen time) and a fresh
// signed QR plus the live colour every `data-refresh` seconds. When the QR can no longer be
// refreshed the whole card turns grey with 二维码已失效 (no colour a door could accept): at once
// when the log-in has expired (the API answers 401/403; a 重新登录 button), and when the network
// fails, once the last token has expired (a 刷新页面 button).
(function () {
  "use strict";
  var card = document.getElementById("code-card");
  if (!card) return;
  var clock = document.getElementById("clock");
  var qr = document.getElementById("qr");
  var label = document.getElementById("colour-label");
  var reasons = document.getElementById("reasons");
  var note = document.getElementById("status-note");
  var testLine = document.getElementById("test-line");
  var advice = document.getElementById("advice");
  var adviceText = document.getElementById("advice-text");
  var expired = document.getElementById("expired");
  var expiredWhy = document.getElementById("expired-why");
  var relogin = document.getElementById("relogin");
  var reload = document.getElementById("reload");
  var refreshMs = parseInt(card.dataset.refresh, 10) * 1000;
  var fmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  var noteText = note.textContent;
  var colourText = label.textContent;
  var ttlMs = parseInt(card.dataset.ttl, 10) * 1000;
  var expiresAt = Date.now() + ttlMs;
  var loggedOut = false;
  var refresher = null;

  // Date and time in two unbreakable spans: a narrow screen (200 % zoom) wraps the clock
  // between them, never inside a date.
  function showTime(el, p) {
    var date = document.createElement("span"), time = document.createElement("span");
    date.className = "clock-date";
    time.className = "clock-time";
    date.textContent = p.year + "-" + p.month + "-" + p.day;
    time.textContent = p.hour + ":" + p.minute + ":" + p.second;
    el.replaceChildren(date, " ", time);
  }

  // The grey card: no colour, no QR, why, and the one way forward.
  function expire(why, button) {
    card.classList.add("expired");
    label.textContent = card.dataset.expired;
    expiredWhy.textContent = why;
    relogin.hidden = button !== relogin;
    reload.hidden = button !== reload;
    expired.hidden = false;
    note.hidden = true;
  }

  function unexpire() {
    card.classList.remove("expired");
    label.textContent = colourText;
    expired.hidden = true;
    note.hidden = false;
    note.textContent = noteText;
  }

  function tick() {
    var p = {};
    fmt.formatToParts(new Date()).forEach(function (x) { p[x.type] = x.value; });
    showTime(clock, p);
    if (!loggedOut && Date.now() > expiresAt && !card.classList.contains("expired")) {
      expire(card.dataset.offline, reload);
    }
  }

  function refresh() {
    fetch(card.dataset.api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          loggedOut = true;
          clearInterval(refresher);
          expire(card.dataset.login, relogin);
          return null;
        }
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (data) {
        if (!data) return;
        card.className = "code-card colour-" + data.colour;
        colourText = data.colour_label;
        reasons.textContent = data.reasons.map(function (x) { return x.text; }).join("；");
        adviceText.textContent = data.advice || "";
        advice.hidden = !data.advice;
        testLine.textContent = data.test.line;
        testLine.className = "test-line test-" + data.test.state;
        // A member's QR address already carries ?member=.
        qr.src = card.dataset.qr + (card.dataset.qr.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
        expiresAt = Date.now() + ttlMs;
        unexpire();
      })
      .catch(function () {
        // Keep the current code until it expires (tick() then turns the card grey).
        if (!card.classList.contains("expired")) note.textContent = card.dataset.retrying;
      });
  }

  tick();
  setInterval(tick, 1000);
  refresher = setInterval(refresh, refreshMs);
})();
