// Offline verification at the door (docs/offline.md). While online the page keeps the public
// keys (GET /api/v1/keys) in localStorage. When a verify request fails for lack of network,
// inspect.js asks window.offlineDoor.verify(code, venue): the status assertion inside the code
// token (healthcode/tokens.py: the record, and tokens.read_assertion, the same checks in
// Python) is checked here with WebCrypto Ed25519, and the door decision is made as
// healthcode.engine.entry_decision makes it. A confirmation is queued in localStorage with
// its client id and the time it was made, and sent when the network returns; the confirm API
// records each client id once, so sending one twice is harmless.
(function () {
  "use strict";
  var form = document.getElementById("inspect");
  if (!form) return;
  var KEYS = "door.keys.v1", QUEUE = "door.queue.v1";
  var SKEW = 30;  // seconds a code may be dated ahead of this device (tokens.FUTURE_SKEW)
  var HEAD = 34, MAC = 16, SIG = 64;  // the record: head, name, HMAC, signature (bytes)
  var SHAPE = /^HC2\.([A-Za-z0-9_-]{152,216})$/;
  var COLOURS = ["green", "yellow", "red"];
  var STATES = ["none", "negative", "pending", "expired", "positive", "invalid"];
  var text = JSON.parse(document.getElementById("offline-text").textContent);
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var status = document.getElementById("offline-status");
  var when = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false
  });

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function load(name, fallback) {
    try { return JSON.parse(localStorage.getItem(name)) || fallback; } catch (e) { return fallback; }
  }
  function save(name, value) { localStorage.setItem(name, JSON.stringify(value)); }

  // --- base64url ----------------------------------------------------------------------------
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  function decode(s) {
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < s.length; i++) {
      value = (value << 6) | ALPHABET.indexOf(s[i]);
      bits += 6;
      if (bits >= 8) { bits -= 8; out.push((value >> bits) & 255); }
      value &= (1 << bits) - 1;
    }
    return new Uint8Array(out);
  }
  function encode(bytes) {
    var out = "", bits = 0, value = 0;
    for (var i = 0; i < bytes.length; i++) {
      value = (value << 8) | bytes[i];
      bits += 8;
      while (bits >= 6) { bits -= 6; out += ALPHABET[(value >> bits) & 63]; }
      value &= (1 << bits) - 1;
    }
    if (bits > 0) out += ALPHABET[(value << (6 - bits)) & 63];
    return out;
  }

  // --- Keys ---------------------------------------------------------------------------------
  function refreshKeys() {
    var kept = load(KEYS, null);
    if (kept && Date.now() - kept.fetched < kept.maxAge * 1000) return Promise.resolve();
    return fetch(form.dataset.keys, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (data) save(KEYS, { fetched: Date.now(), maxAge: data.max_age, keys: data.keys });
    }, function () { /* offline: keep what we have */ });
  }

  // --- The assertion ------------------------------------------------------------------------
  function refuse(problem) { return { ok: false, message: text.problems[problem] || problem }; }

  // The assertion in a token, checked: { ok: true, claim } or { ok: false, message }.
  function check(code, nowSeconds) {
    code = (code || "").trim();
    if (code.indexOf("HP1.") === 0) return Promise.resolve({ ok: false, message: text.paper });
    var match = SHAPE.exec(code);
    var raw = match ? decode(match[1]) : null;
    if (!raw || raw.length < HEAD + MAC + SIG || encode(raw) !== match[1]) {
      return Promise.resolve(refuse("malformed"));
    }
    var view = new DataView(raw.buffer);
    var kid = encode(raw.slice(31, 34));
    var keys = load(KEYS, null);
    if (!keys) return Promise.resolve({ ok: false, message: text.no_keys });
    var listed = keys.keys.filter(function (k) { return k.kid === kid; })[0];
    if (!listed) return Promise.resolve(refuse("unknown_key"));
    if (!window.crypto || !crypto.subtle) return Promise.resolve({ ok: false, message: text.no_crypto });
    var signed = new Uint8Array(3 + raw.length - SIG);
    signed.set([72, 67, 50]);  // "HC2"
    signed.set(raw.slice(0, raw.length - SIG), 3);
    return crypto.subtle.importKey("raw", decode(listed.key), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        return crypto.subtle.verify({ name: "Ed25519" }, key, raw.slice(raw.length - SIG), signed);
      })
      .then(function (genuine) {
        if (!genuine) return refuse("bad_signature");
        var flags = raw[22], issued = view.getUint32(16), life = view.getUint16(20);
        var name;
        try {
          name = new TextDecoder("utf-8", { fatal: true }).decode(raw.slice(HEAD, raw.length - SIG - MAC));
        } catch (e) { return refuse("malformed"); }
        if ((flags >> 4) >= COLOURS.length || ((flags >> 1) & 7) >= STATES.length) {
          return refuse("malformed");
        }
        if (issued > nowSeconds + SKEW) return refuse("future");
        if (nowSeconds >= issued + life) return refuse("expired");
        return {
          ok: true,
          claim: {
            issued: issued, colour: COLOURS[flags >> 4], state: STATES[(flags >> 1) & 7],
            inTime: (flags & 1) === 1, validUntil: view.getUint32(23),
            sampled: view.getUint32(27), name: name
          }
        };
      }, function () { return { ok: false, message: text.no_crypto }; });
  }

  // healthcode.engine.entry_decision, for what an assertion states (fever: inspect.js).
  function decide(claim, venue, nowSeconds) {
    var d = text.decisions;
    if (claim.colour === "red") return { passed: false, text: d.red };
    if (claim.colour === "yellow") return { passed: false, text: d.yellow };
    if (venue.testRequired) {
      var inTime = venue.hours
        ? claim.sampled > 0 && nowSeconds < claim.sampled + venue.hours * 3600
        : claim.inTime;
      if (!inTime) {
        if (claim.state === "none") return { passed: false, text: d.no_test };
        return {
          passed: false,
          text: venue.hours ? fill(d.test_overdue, { hours: venue.hours }) : d.test_overdue_policy
        };
      }
    }
    // The assertion carries no doses: where the venue requires vaccination an offline door
    // cannot know, and does not let the person in on a guess (fail closed, says why).
    if (venue.requiresVaccination) return { passed: false, text: d.vaccination_unknown };
    return { passed: true, text: d.pass };
  }

  function age(seconds) {
    seconds = Math.max(0, seconds);
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? fill(text.minutes, { m: m, s: s }) : fill(text.seconds, { s: s });
  }

  // What inspect.js shows for a person, as the verify API would answer, plus the banner.
  function verify(code, venue) {
    var now = Math.floor(Date.now() / 1000);
    return check(code, now).then(function (result) {
      if (!result.ok) return result;
      var c = result.claim, decision = decide(c, venue, now);
      var test = text.tests[c.state];
      if (c.validUntil) test += " · " + fill(text.valid_until, { time: when.format(new Date(c.validUntil * 1000)) });
      return {
        ok: true,
        person: {
          name: c.name, id_number: "", colour: c.colour, colour_label: text.colours[c.colour],
          test_line: test, passed: decision.passed, decision: decision.text,
          offline: true, banner: text.banner, age: fill(text.age, { age: age(now - c.issued) })
        }
      };
    });
  }

  // --- The queue ----------------------------------------------------------------------------
  // Kept per inspector: a shared door phone sends only the signed-in inspector's own
  // confirmations (another's wait for them; the server records who scanned).
  var user = form.dataset.user || "";
  function mine(item) { return item.user === user; }

  function showQueue(message) {
    var queue = load(QUEUE, []).filter(mine);
    var line = queue.length ? fill(text.pending, { count: queue.length }) : message || "";
    status.textContent = line;
    status.hidden = !line;
  }

  function enqueue(body, person) {
    var queue = load(QUEUE, []);
    queue.push({ body: body, name: person.name, user: user });
    save(QUEUE, queue);
    showQueue();
    return fill(text.queued, { name: person.name, decision: person.decision });
  }

  function forget(item) {
    save(QUEUE, load(QUEUE, []).filter(function (x) { return x.body.client_id !== item.body.client_id; }));
  }

  // One round sends each of this inspector's queued confirmations once, in order. Recorded
  // (201), recorded before (200) or refused for good (400, 404, 409): done with it. Refused
  // for now (403: not bound to that venue today, 5xx): kept, and the round goes on, so one
  // item cannot hold back the rest. No network, logged out or throttled: the round stops.
  var sending = false;
  function flush() {
    if (sending) return;
    var round = load(QUEUE, []).filter(mine);
    if (!round.length) return;
    sending = true;
    var dropped = "";
    function next(i) {
      if (i >= round.length) {
        sending = false;
        return showQueue(dropped ? fill(text.dropped, { reason: dropped }) : text.sent);
      }
      var item = round[i];
      fetch(form.dataset.confirm, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(item.body)
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          return { status: r.status, ok: r.ok, data: data };
        });
      }).then(function (res) {
        var final = res.ok || res.status === 400 || res.status === 404 || res.status === 409;
        if (final) {
          forget(item);
          if (!res.ok) {
            dropped = [].concat(res.data.code || res.data.confirmed_at || res.data.detail || "")[0];
          }
        } else if (res.status === 401 || res.status === 429 || (res.status === 403 && !res.data.code)) {
          sending = false;  // logged out, throttled: try the whole round later
          return showQueue();
        }
        next(i + 1);
      }, function () { sending = false; showQueue(); });
    }
    next(0);
  }

  window.offlineDoor = { verify: verify, enqueue: enqueue, flush: flush };
  window.addEventListener("online", function () { refreshKeys(); flush(); });
  setInterval(flush, 15000);
  refreshKeys();
  showQueue();
  flush();
})();
