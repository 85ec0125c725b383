// The check-in page records on a POST only; with JavaScript on, it posts itself once on load.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (form && !form.dataset.sent) {
    form.dataset.sent = "1";
    form.submit();
  }
})();
