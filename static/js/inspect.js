// Reverse scan: read the resident's code (camera via BarcodeDetector or the vendored jsQR,
// or pasted), show masked identity and live status, then record the check-in with the
// temperature band the inspector picked.
(function () {
  "use strict";
  var form = document.getElementById("inspect");
  if (!form) return;
  var $ = function (id) { return document.getElementById(id); };
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var colours = ["colour-green", "colour-yellow", "colour-red"];
  var text = JSON.parse(document.getElementById("inspect-text").textContent);

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); });
  }
  function show(id) { ["person", "error", "done"].forEach(function (x) { $(x).hidden = x !== id; }); }
  function fail(data) {
    // A refused code answers {"code": [message]}; other refusals {"detail": message, "code": id}.
    var message = Array.isArray(data.code) ? data.code[0] : data.detail;
    $("error-text").textContent = message || text.failed;
    show("error");
  }
  function paint(el, colour) {
    colours.forEach(function (c) { el.classList.remove(c); });
    el.classList.add("colour-" + colour);
  }
  function band() { return form.ownerDocument.querySelector("[name=band]:checked").value; }
  function updateConfirm(passed) {
    var stop = !passed || band() === "fever";
    $("confirm").textContent = stop ? text.confirm_stop : text.confirm_pass;
    $("confirm").className = "button " + (stop ? "danger" : "primary");
  }

  var preview = null;
  function verify() {
    var body = { venue: parseInt($("venue").value, 10), code: $("code").value.trim() };
    post(form.dataset.verify, body).then(function (res) {
      if (!res.ok) return fail(res.data);
      preview = res.data;
      $("p-name").textContent = preview.name;
      $("p-id").textContent = preview.id_number;
      $("p-colour").textContent = preview.colour_label;
      $("p-test").textContent = preview.test_line;
      $("p-decision").textContent = preview.decision;
      paint($("person"), preview.colour);
      updateConfirm(preview.passed);
      show("person");
    });
  }
  function confirm() {
    var body = { venue: parseInt($("venue").value, 10), code: $("code").value.trim(),
                 temperature_band: band() };
    post(form.dataset.confirm, body).then(function (res) {
      if (!res.ok) return fail(res.data);
      $("done-big").textContent = res.data.passed ? text.pass : text.stop;
      $("done-big").parentNode.className = "decision " + (res.data.passed ? "decision-pass" : "decision-stop");
      $("done-why").textContent = res.data.decision;
      paint($("done"), res.data.colour || "red");
      show("done");
    });
  }

  function manual() {
    var body = {
      venue: parseInt($("venue").value, 10), name: $("m-name").value.trim(),
      id_type: $("m-id-type").value, id_number: $("m-id").value.trim(),
      phone: $("m-phone").value.trim(),
      temperature_band: document.querySelector("[name=m-band]:checked").value
    };
    post(form.dataset.manual, body).then(function (res) {
      if (!res.ok) {
        // A refusal (403, 429) carries one message in "detail"; bad input, field errors.
        $("m-errors").textContent = res.data.detail || Object.keys(res.data).map(function (k) {
          return [].concat(res.data[k]).join(" ");
        }).join("；");
        return;
      }
      $("m-errors").textContent = "";
      $("done-big").textContent = res.data.passed ? text.pass : text.stop;
      $("done-big").parentNode.className = "decision " + (res.data.passed ? "decision-pass" : "decision-stop");
      $("done-why").textContent = res.data.name + " · " + res.data.decision;
      paint($("done"), res.data.colour || "red");
      show("done");
    });
  }

  // Enter in a field must not submit the form: everything goes through the buttons.
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  $("verify").addEventListener("click", verify);
  $("m-submit").addEventListener("click", manual);
  $("confirm").addEventListener("click", confirm);
  Array.prototype.forEach.call(document.querySelectorAll("[name=band]"), function (r) {
    r.addEventListener("change", function () { if (preview) updateConfirm(preview.passed); });
  });
  $("next").addEventListener("click", function () {
    $("code").value = ""; preview = null; show(null); $("code").focus();
  });

  // Camera: scan until a code is read, then verify it.
  $("start-camera").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("start-camera").textContent = text.no_camera;
      return;
    }
    var video = $("camera");
    var canvas = document.createElement("canvas");
    var detector = ("BarcodeDetector" in window) ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream; video.hidden = false; video.play();
      function found(text) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        video.hidden = true; $("code").value = text; verify();
      }
      function frame() {
        if (video.readyState < 2) return requestAnimationFrame(frame);
        if (detector) {
          detector.detect(video).then(function (codes) {
            if (codes.length) found(codes[0].rawValue); else requestAnimationFrame(frame);
          });
          return;
        }
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        var ctx = canvas.getContext("2d");
        ctx.drawImage(video, 0, 0);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var qr = window.jsQR && window.jsQR(img.data, img.width, img.height);
        if (qr) found(qr.data); else requestAnimationFrame(frame);
      }
      requestAnimationFrame(frame);
    }).catch(function () { $("start-camera").textContent = text.camera_failed; });
  });
})();
