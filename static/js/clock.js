// A clock ticking every second in Beijing time: a screenshot of a result page shows a frozen one.
(function () {
  "use strict";
  var clock = document.getElementById("clock");
  if (!clock) return;
  var fmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  function tick() {
    var p = {};
    fmt.formatToParts(new Date()).forEach(function (x) { p[x.type] = x.value; });
    clock.textContent = p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
  }
  tick();
  setInterval(tick, 1000);
})();
