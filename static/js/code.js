// The code page: a clock ticking every second (a screenshot shows a frozen time) and a fresh
// signed QR plus the live colour every `data-refresh` seconds. When the QR can no longer be
// refreshed the whole card turns grey with 二维码已失效 (no colour a door could accept): at once
// when the log-in has expired (the API answers 401/403; a 重新登录 button), and when the network
// fails, once the last token has expired (a 刷新页面 button).
// Offline (docs/offline.md): the service worker (static/js/sw.js, registered here) gives back
// the holder's last page, QR and code answer when the network fails, saying when that QR was
// fetched (data-offline-qr-at on a kept page, X-Offline-Qr-At on a kept answer): the card shows
// it with the offline banner until that QR's life is over, then greys as above.
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
  // A page the service worker kept: its QR was fetched then, not now (0: no QR kept).
  var keptQrAt = card.dataset.offlineQrAt;
  var expiresAt = (keptQrAt ? parseInt(keptQrAt, 10) : Date.now()) + ttlMs;
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
    note.classList.remove("offline-note");
  }

  // The network is down and the kept QR is still alive: shown, with the offline banner.
  function showOffline() {
    if (card.classList.contains("expired")) return;
    note.textContent = card.dataset.offlineShown;
    note.classList.add("offline-note");
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
    var offlineQrAt = null;
    fetch(card.dataset.api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        offlineQrAt = r.headers.get("X-Offline-Qr-At");
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
        if (offlineQrAt !== null) {
          // The worker's kept answer: the QR on screen is the kept one, alive until its life
          // from when it was fetched is over (then tick() greys the card).
          expiresAt = parseInt(offlineQrAt, 10) + ttlMs;
          if (Date.now() > expiresAt) return tick();
        }
        card.className = "code-card colour-" + data.colour;
        colourText = data.colour_label;
        reasons.textContent = data.reasons.map(function (x) { return x.text; }).join("；");
        adviceText.textContent = data.advice || "";
        advice.hidden = !data.advice;
        testLine.textContent = data.test.line;
        testLine.className = "test-line test-" + data.test.state;
        unexpire();
        if (offlineQrAt !== null) return showOffline();
        // A member's QR address already carries ?member=.
        qr.src = card.dataset.qr + (card.dataset.qr.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
        expiresAt = Date.now() + ttlMs;
      })
      .catch(function () {
        // Keep the current code until it expires (tick() then turns the card grey).
        if (!card.classList.contains("expired")) note.textContent = card.dataset.retrying;
      });
  }

  // The page names what it needs kept: its stylesheet and scripts, and (the holder's own code
  // only, data-keep) itself.
  function register() {
    if (!("serviceWorker" in navigator) || !card.dataset.sw) return;
    navigator.serviceWorker.register(card.dataset.sw, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        if (!card.dataset.keep || !registration.active) return;
        var assets = [];
        document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (el) {
          assets.push(el.href || el.src);
        });
        registration.active.postMessage({ type: "keep", assets: assets });
      })
      .catch(function () {}); // no worker (private mode, offline): the page works as before
  }

  tick();
  setInterval(tick, 1000);
  refresher = setInterval(refresh, refreshMs);
  if (keptQrAt) {
    showOffline();
    refresh(); // the kept answer's colour and test line, newer than the kept page's
  }
  register();
})();
