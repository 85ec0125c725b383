// The code page: a clock ticking every second (a screenshot shows a frozen time) and a fresh
// signed QR plus the live colour every `data-refresh` seconds. If refreshing fails for longer
// than the token lives, the QR is dimmed: it would no longer scan.
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
  var refreshMs = parseInt(card.dataset.refresh, 10) * 1000;
  var fmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  var noteText = note.textContent;
  var ttlMs = parseInt(card.dataset.ttl, 10) * 1000;
  var expiresAt = Date.now() + ttlMs;

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

  function tick() {
    var p = {};
    fmt.formatToParts(new Date()).forEach(function (x) { p[x.type] = x.value; });
    showTime(clock, p);
    if (Date.now() > expiresAt) {
      card.classList.add("stale");
      note.textContent = card.dataset.offline;
    }
  }

  function refresh() {
    fetch(card.dataset.api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        card.className = "code-card colour-" + data.colour;
        label.textContent = data.colour_label;
        reasons.textContent = data.reasons.map(function (x) { return x.text; }).join("；");
        testLine.textContent = data.test.line;
        testLine.className = "test-line test-" + data.test.state;
        card.classList.remove("stale");
        // A member's QR address already carries ?member=.
        qr.src = card.dataset.qr + (card.dataset.qr.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
        expiresAt = Date.now() + ttlMs;
        note.textContent = noteText;
      })
      .catch(function () { /* keep the current code until it expires; tick() then says so */ });
  }

  tick();
  setInterval(tick, 1000);
  setInterval(refresh, refreshMs);
})();
