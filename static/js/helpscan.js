// 帮扫, the paper-code way: read the person's paper health code with the camera
// (BarcodeDetector or the vendored jsQR) or from an uploaded photo, put its text in the field
// and post the form. Without JavaScript the text can still be pasted.
(function () {
  "use strict";
  var form = document.getElementById("paper-form");
  if (!form) return;
  var $ = function (id) { return document.getElementById(id); };
  var text = JSON.parse($("help-text").textContent);
  var canvas = document.createElement("canvas");

  function found(value) { $("paper-token").value = value; form.submit(); }
  function decode(source, width, height) {
    canvas.width = width; canvas.height = height;
    var ctx = canvas.getContext("2d");
    ctx.drawImage(source, 0, 0, width, height);
    var img = ctx.getImageData(0, 0, width, height);
    var qr = window.jsQR && window.jsQR(img.data, img.width, img.height);
    return qr ? qr.data : null;
  }

  $("paper-photo").addEventListener("change", function () {
    var file = this.files && this.files[0];
    if (!file) return;
    var image = new Image();
    image.onload = function () {
      // Phone photos are large: 1600 px on the long side is plenty for a QR and quick to scan.
      var scale = Math.min(1, 1600 / Math.max(image.naturalWidth, image.naturalHeight));
      var value = decode(image, Math.round(image.naturalWidth * scale), Math.round(image.naturalHeight * scale));
      URL.revokeObjectURL(image.src);
      if (value) found(value); else $("paper-status").textContent = text.not_found;
    };
    image.src = URL.createObjectURL(file);
  });

  $("start-camera").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("paper-status").textContent = text.no_camera;
      return;
    }
    var video = $("camera");
    var detector = ("BarcodeDetector" in window) ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream; video.hidden = false; video.play();
      function done(value) { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; found(value); }
      function frame() {
        if (video.readyState < 2) return requestAnimationFrame(frame);
        if (detector) {
          detector.detect(video).then(function (codes) {
            if (codes.length) done(codes[0].rawValue); else requestAnimationFrame(frame);
          });
          return;
        }
        var value = decode(video, video.videoWidth, video.videoHeight);
        if (value) done(value); else requestAnimationFrame(frame);
      }
      requestAnimationFrame(frame);
    }).catch(function () { $("paper-status").textContent = text.no_camera; });
  });
})();
