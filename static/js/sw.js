// The code page's service worker (docs/offline.md, "The resident's code page offline"), served
// at /sw.js so that it may control /code/. It keeps exactly three answers of the signed-in
// holder's OWN code — the page (/code/), the last QR image (/code/qr.png) and the last code
// answer (GET /api/v1/me/code) — plus the stylesheet and scripts that page names, and gives
// them back only when the network fails: online, every request goes to the server and its
// answer is what the page gets. With the kept page it says when the kept QR was fetched
// (data-offline-qr-at), and with the kept answer too (X-Offline-Qr-At), so code.js greys the
// card once that QR's life is over, as it does online.
//
// Never kept: a family member's code (?member=), any other page (records, family, door), any
// answer to a POST, an answer without the holder's key (X-Offline-Owner). The kept code goes
// when someone signs in or out (/login/, /logout/, /register/ pass through here), when the
// server says the log-in has ended (401/403, or /code/ sends to the log-in page), and when an
// answer carries another holder's key. Cache names carry VERSION; activate deletes the rest.
"use strict";

var VERSION = "v1";
var CODE_CACHE = "hc-code-" + VERSION;
var STATIC_CACHE = "hc-static-" + VERSION;
var CURRENT = [CODE_CACHE, STATIC_CACHE];
var PAGE = "/code/";
var QR = "/code/qr.png";
var API = "/api/v1/me/code";
var OWNER_ENTRY = "/code/offline-owner"; // not an address of the site: the holder's key
var OWNER = "X-Offline-Owner";
var KEPT_AT = "X-Offline-Kept-At";
var SESSION_PATHS = ["/login/", "/logout/", "/register/"];
var MATCH = { ignoreVary: true, ignoreSearch: false };

// Every change to the code cache, and every read of it, in one line: a sign-out's forget()
// cannot pass a store() that began before it, nor a read the kept copy it removed.
var queue = Promise.resolve();
function serial(task) {
  var next = queue.then(task, task);
  queue = next.catch(function () {});
  return next;
}

function forget() {
  return caches.delete(CODE_CACHE);
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return CURRENT.indexOf(name) < 0;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// The key an address is kept under, or null: never kept.
function keptAs(url) {
  if (url.origin !== self.location.origin) return null;
  if (url.pathname === PAGE && !url.search) return PAGE;
  if (url.pathname === API && !url.search) return API;
  if (url.pathname === QR) {
    var other = false;
    url.searchParams.forEach(function (value, name) { if (name !== "t") other = true; });
    return other ? null : QR;
  }
  return null;
}

function store(key, response) {
  var owner = response.headers.get(OWNER);
  if (!owner) return forget(); // not a holder's own answer: keep nothing at all
  return response.blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set(KEPT_AT, String(Date.now()));
    var copy = new Response(body, { status: response.status, headers: headers });
    return caches.open(CODE_CACHE).then(function (cache) {
      return cache.match(OWNER_ENTRY).then(function (kept) {
        return kept ? kept.text() : null;
      }).then(function (keptOwner) {
        if (keptOwner === owner) return cache;
        // Another holder (or none yet): nothing of the one before may stay.
        return forget().then(function () { return caches.open(CODE_CACHE); }).then(function (fresh) {
          return fresh.put(OWNER_ENTRY, new Response(owner)).then(function () { return fresh; });
        });
      }).then(function (target) { return target.put(key, copy); });
    });
  });
}

// What the server said, online: keep it, forget everything, or leave the kept copy as it is.
function learn(key, response) {
  var loggedOut = response.status === 401 || response.status === 403;
  if (key === PAGE) {
    // Sent to the log-in page (a manual redirect is opaque), no resident: nothing to keep.
    return response.ok && !response.redirected ? store(key, response) : forget();
  }
  if (response.ok) return store(key, response);
  return loggedOut ? forget() : null; // a 5xx or 429 says nothing about who is signed in
}

function keptQrAt(cache) {
  return cache.match(QR, MATCH).then(function (qr) {
    return qr ? qr.headers.get(KEPT_AT) || "0" : "0";
  });
}

// The kept copy when the network failed; without one, the browser's own error (never a page
// of someone else, never an empty code).
function kept(key) {
  return caches.open(CODE_CACHE).then(function (cache) {
    return cache.match(key, MATCH).then(function (hit) {
      if (!hit) return Response.error();
      if (key === QR) return hit;
      return keptQrAt(cache).then(function (qrAt) {
        var headers = new Headers(hit.headers);
        headers.set("X-Offline-Qr-At", qrAt);
        if (key === API) return new Response(hit.body, { status: hit.status, headers: headers });
        return hit.text().then(function (html) {
          headers.delete("Content-Length");
          html = html.replace('data-offline-qr-at=""', 'data-offline-qr-at="' + qrAt + '"');
          return new Response(html, { status: hit.status, headers: headers });
        });
      });
    });
  });
}

function staticFirstFromNetwork(request) {
  return fetch(request).catch(function () {
    return caches.open(STATIC_CACHE).then(function (cache) {
      return cache.match(request, MATCH).then(function (hit) { return hit || Response.error(); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SESSION_PATHS.indexOf(url.pathname) >= 0) {
    // Someone signs in or out (online or not): the kept code goes, the request goes on as is.
    event.waitUntil(serial(forget));
    return;
  }
  if (request.method !== "GET") return; // a POST's answer is never kept nor replaced
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(staticFirstFromNetwork(request));
    return;
  }
  var key = keptAs(url);
  if (!key) return; // every other page: the network only, nothing kept
  event.respondWith(fetch(request).then(function (response) {
    var copy = response.clone();
    event.waitUntil(serial(function () { return learn(key, copy); }));
    return response;
  }, function () {
    // A refresh's new QR (?t=) that could not be fetched is not replaced by the kept one: the
    // page would count the old QR's life from now. The kept page asks for the bare address.
    if (key === QR && url.search) return Response.error();
    return serial(function () { return kept(key); });
  }));
});

// The code page, once this worker is ready, names its stylesheet and scripts (kept for an
// offline reload; those of an older deployment dropped) and asks for its own page to be kept
// if it is not yet (the very first visit is not seen by a worker that did not exist yet).
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep") return;
  var assets = (data.assets || []).filter(function (address) {
    var url = new URL(address, self.location.origin);
    return url.origin === self.location.origin && url.pathname.indexOf("/static/") === 0;
  });
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (r) { return assets.indexOf(r.url) < 0; })
        .map(function (r) { return cache.delete(r); }));
    }).then(function () {
      return Promise.all(assets.map(function (address) {
        return cache.match(address).then(function (hit) {
          return hit || fetch(address).then(function (r) { return r.ok ? cache.put(address, r) : null; });
        });
      }));
    });
  }).then(function () {
    return serial(function () {
      return caches.open(CODE_CACHE).then(function (cache) { return cache.match(PAGE, MATCH); })
        .then(function (hit) {
          if (hit) return null;
          return fetch(PAGE, { credentials: "same-origin" }).then(function (response) {
            return learn(PAGE, response);
          });
        });
    });
  }).catch(function () {}));
});
