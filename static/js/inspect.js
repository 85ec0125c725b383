// Reverse scan at the door. One flow for every person:
//   scan ─(code read by the camera, or pasted + 核验)→ verdict ─(确认 / 跳过)→ scan
//                                                   └→ invalid ─(下一位)→ scan
// The camera and the paste field are the same entry point: a code the camera reads is put
// into the paste field and verified exactly as a pasted one. The verdict replaces the form
// (the person's colour over the whole screen); after 确认 or 跳过 the camera reopens by
// itself if it was in use, else the paste field is ready for the next person.
(function () {
  "use strict";
  var form = document.getElementById("inspect");
  if (!form) return;
  var $ = function (id) { return document.getElementById(id); };
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var colours = ["colour-green", "colour-yellow", "colour-red"];
  var screens = ["person", "error", "done"];
  var text = JSON.parse(document.getElementById("inspect-text").textContent);

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }
  function venueId() { return parseInt($("venue").value, 10); }
  function venueName() { return $("venue").options[$("venue").selectedIndex].text; }
  function show(id) {
    screens.forEach(function (x) { $(x).hidden = x !== id; });
    document.body.classList.toggle("door-open", id !== null);
  }
  function paint(el, colour) {
    colours.forEach(function (c) { el.classList.remove(c); });
    if (colour) el.classList.add("colour-" + colour);
  }
  function paintDecision(el, passed) {
    el.classList.toggle("door-verdict-pass", passed);
    el.classList.toggle("door-verdict-stop", !passed);
  }

  // --- Camera -----------------------------------------------------------------------------
  // wanted: the inspector scans with the camera (it reopens after each person);
  // stream: the camera is open now. A scan loop ends when its stream is no longer current.
  // held: the code the camera read last, ignored while it stays in view (the camera reopens
  // while the person just handled may still hold up their phone); it is forgotten once no
  // code has been seen for LOST frames in a row.
  var LOST = 15;
  var camera = { wanted: false, stream: null, held: null, misses: 0 };
  function cameraStop() {
    if (camera.stream) camera.stream.getTracks().forEach(function (t) { t.stop(); });
    camera.stream = null;
    $("camera").hidden = true;
    $("camera").srcObject = null;
    $("start-camera").textContent = text.camera_open;
  }
  function cameraStart() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      camera.wanted = false;
      $("start-camera").textContent = text.no_camera;
      return;
    }
    camera.wanted = true;
    var video = $("camera");
    var canvas = document.createElement("canvas");
    var detector = ("BarcodeDetector" in window) ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      if (!camera.wanted || state !== "scan") {  // closed or a paste won the race meanwhile
        stream.getTracks().forEach(function (t) { t.stop(); });
        return;
      }
      camera.stream = stream;
      video.srcObject = stream; video.hidden = false; video.play();
      $("start-camera").textContent = text.camera_close;
      function found(value) {  // value: the code in this frame, or null
        if (camera.stream !== stream) return;
        if (!value || value === camera.held) {
          if (!value && ++camera.misses >= LOST) camera.held = null;
          if (value) camera.misses = 0;
          return requestAnimationFrame(frame);
        }
        camera.held = value;
        camera.misses = 0;
        $("code").value = value;
        verify();
      }
      function frame() {
        if (camera.stream !== stream) return;
        if (video.readyState < 2) return requestAnimationFrame(frame);
        if (detector) {
          detector.detect(video).then(function (codes) {
            found(codes.length ? codes[0].rawValue : null);
          }, function () { found(null); });
          return;
        }
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        var ctx = canvas.getContext("2d");
        ctx.drawImage(video, 0, 0);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var qr = window.jsQR && window.jsQR(img.data, img.width, img.height);
        found(qr && qr.data ? qr.data : null);
      }
      requestAnimationFrame(frame);
    }).catch(function () {
      camera.wanted = false;
      $("start-camera").textContent = text.camera_failed;
    });
  }

  // --- The person's verdict ---------------------------------------------------------------
  var state = "scan";  // scan | checking | verdict | confirming | invalid | done
  var preview = null;  // the verify answer, with the code it was for
  function band() { return document.querySelector("[name=band]:checked").value; }
  function renderVerdict() {
    var fever = band() === "fever";
    var stop = !preview.passed || fever;
    $("p-big").textContent = stop ? text.stop : text.pass;
    $("p-decision").textContent = fever && preview.passed ? text.fever : preview.decision;
    paintDecision($("p-verdict"), !stop);
    $("confirm").textContent = stop ? text.confirm_stop : text.confirm_pass;
    $("confirm").classList.toggle("door-stop", stop);
    $("confirm").classList.toggle("door-pass", !stop);
  }
  function excerpt(code) {
    // Enough to tell what was shown (a venue poster, a link), never the whole token.
    if (code.length <= 8) return code.slice(0, 2) + "…";
    return code.slice(0, 6) + "…" + code.slice(-4);
  }
  function invalid(res, code) {
    // A refused code: 400 {"code": [message]}, or 409 (used at another venue). Anything
    // else (403 venue, network) is a failure of the check, not of the person's code.
    var data = (res && res.data) || {};
    var codeProblem = res && ((res.status === 400 && data.code) || res.status === 409);
    var message = Array.isArray(data.code) ? data.code[0] : data.detail;
    var title = codeProblem ? text.invalid : text.failed;
    message = message || (res ? text.failed : text.network);
    if (message.indexOf(title + "：") === 0) message = message.slice(title.length + 1);
    $("error-title").textContent = title;
    $("error-text").textContent = message;
    $("error-code").textContent = code ? text.scanned + excerpt(code) : "";
    $("error-code").hidden = !code;
    $("code").value = "";
    preview = null;
    state = "invalid";
    show("error");
    $("error-next").focus();
  }
  function verify() {
    if (state !== "scan") return;
    var code = $("code").value.trim();
    if (!code) { $("code-error").textContent = text.empty; $("code").focus(); return; }
    $("code-error").textContent = "";
    state = "checking";
    cameraStop();  // camera.wanted stays: it reopens for the next person
    post(form.dataset.verify, { venue: venueId(), code: code }).then(function (res) {
      if (!res.ok) return invalid(res, code);
      showPerson(res.data, code);
    }, function () { verifyOffline(code); });
  }
  function showPerson(person, code) {
    preview = person;
    preview.code = code;
    document.querySelector("[name=band][value=normal]").checked = true;
    $("p-venue").textContent = venueName();
    $("p-name").textContent = preview.name;
    $("p-id").textContent = preview.id_number;
    $("p-colour").textContent = preview.colour_label;
    $("p-test").textContent = preview.test_line;
    // 四码一屏: the person's doses beside the test line (null for nobody registered, and
    // offline: the signed assertion carries no doses).
    $("p-vaccination").textContent = preview.vaccination ? text.vaccination + preview.vaccination.text : "";
    $("p-vaccination").hidden = !preview.vaccination;
    showOfflineBanner(preview);
    paint($("person"), preview.colour);
    renderVerdict();
    state = "verdict";
    show("person");
    $("confirm").focus();
  }

  // --- Without network (static/js/offline-verify.js) ----------------------------------------
  // The verify request failed for lack of network: the code's signed status assertion is
  // checked on this phone. A refused one is 无效码 with the reason, as the server would say.
  function verifyOffline(code) {
    var door = window.offlineDoor;
    if (!door) return invalid(null, code);
    var option = $("venue").options[$("venue").selectedIndex];
    var venue = {
      testRequired: option.dataset.testRequired === "1",
      hours: parseInt(option.dataset.requiredHours, 10) || null,
      requiresVaccination: option.dataset.requiresVaccination === "1"
    };
    door.verify(code, venue).then(function (result) {
      if (result.ok) return showPerson(result.person, code);
      invalid({ status: 400, data: { code: [result.message] } }, code);
    });
  }
  function showOfflineBanner(person) {
    var banner = $("p-offline");
    banner.hidden = !person.offline;
    if (!person.offline) return;
    var title = document.createElement("strong");
    title.textContent = person.banner;
    banner.replaceChildren(title, person.age);
  }
  // A confirmation that cannot be sent now: kept on this phone with its id and time, sent
  // when the network returns (recorded once however often it is sent).
  function queueConfirm(body) {
    var stop = !preview.passed || body.temperature_band === "fever";
    body.confirmed_at = new Date().toISOString();
    $("last").textContent = window.offlineDoor.enqueue(
      body, { name: preview.name, decision: $("p-decision").textContent });
    $("last").className = "door-last " + (stop ? "door-last-stop" : "door-last-pass");
    $("last").hidden = false;
    nextPerson();
  }
  function confirm() {
    if (state !== "verdict") return;
    state = "confirming";
    $("confirm").disabled = true;
    var body = {
      venue: venueId(), code: preview.code, temperature_band: band(),
      client_id: crypto.randomUUID()
    };
    if (preview.offline) { $("confirm").disabled = false; return queueConfirm(body); }
    post(form.dataset.confirm, body).then(function (res) {
      $("confirm").disabled = false;
      if (!res.ok) return invalid(res, preview.code);
      $("last").textContent = text.recorded + res.data.name + " · " + res.data.decision;
      $("last").className = "door-last " + (res.data.passed ? "door-last-pass" : "door-last-stop");
      $("last").hidden = false;
      nextPerson();
    }, function () {
      $("confirm").disabled = false;
      if (window.offlineDoor) queueConfirm(body); else invalid(null, preview.code);
    });
  }
  // 跳过, 下一位 and after a confirm: back to scanning, nothing recorded here.
  function nextPerson() {
    $("code").value = "";
    $("code-error").textContent = "";
    preview = null;
    state = "scan";
    show(null);
    if (camera.wanted) cameraStart(); else $("code").focus();
  }

  function manual() {
    if (state !== "scan") return;
    var body = {
      venue: venueId(), name: $("m-name").value.trim(),
      id_type: $("m-id-type").value, id_number: $("m-id").value.trim(),
      phone: $("m-phone").value.trim(),
      temperature_band: document.querySelector("[name=m-band]:checked").value
    };
    post(form.dataset.manual, body).then(function (res) {
      if (!res.ok) {
        manualErrors(res.data);
        return;
      }
      manualErrors(null);
      cameraStop();
      $("done-name").textContent = res.data.name;
      $("done-colour").textContent = res.data.colour_label;
      $("done-big").textContent = res.data.passed ? text.pass : text.stop;
      paintDecision($("done-decision"), res.data.passed);
      $("done-why").textContent = res.data.decision;
      paint($("done"), res.data.colour);
      state = "done";
      show("done");
      $("next").focus();
    }, function () { manualErrors({ detail: text.network }); });
  }
  // The manual form's errors, one a line (never joined into 。；): a refusal (403, 429)
  // carries one message in "detail"; bad input, messages per field, each named by its
  // label unless it names the field already, and the field marked invalid.
  var manualFields = { name: "m-name", id_type: "m-id-type", id_number: "m-id", phone: "m-phone" };
  function manualErrors(data) {
    var list = $("m-errors");
    list.textContent = "";
    Object.keys(manualFields).forEach(function (k) {
      $(manualFields[k]).removeAttribute("aria-invalid");
    });
    if (!data) return;
    var lines = data.detail ? [String(data.detail)] : [];
    if (!data.detail) Object.keys(data).forEach(function (k) {
      var input = manualFields[k] && $(manualFields[k]);
      var label = input ? form.querySelector("label[for=" + input.id + "]").textContent : "";
      label = label.split("（")[0].trim();
      if (input) input.setAttribute("aria-invalid", "true");
      [].concat(data[k]).forEach(function (m) {
        lines.push(label && String(m).indexOf(label) < 0 ? label + "：" + m : String(m));
      });
    });
    var ul = document.createElement("ul");
    ul.className = "error-list";
    lines.forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      ul.appendChild(li);
    });
    list.appendChild(ul);
  }

  // Enter in a field must not submit the form: everything goes through the buttons.
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  $("verify").addEventListener("click", verify);
  $("m-submit").addEventListener("click", manual);
  $("confirm").addEventListener("click", confirm);
  $("skip").addEventListener("click", function () { if (state === "verdict") nextPerson(); });
  $("error-next").addEventListener("click", nextPerson);
  $("next").addEventListener("click", nextPerson);
  Array.prototype.forEach.call(document.querySelectorAll("[name=band]"), function (r) {
    r.addEventListener("change", function () { if (preview) renderVerdict(); });
  });
  $("start-camera").addEventListener("click", function () {
    if (camera.stream) { camera.wanted = false; cameraStop(); } else cameraStart();
  });
})();
