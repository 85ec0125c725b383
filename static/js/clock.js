// A clock ticking every second in Beijing time: a screenshot of a result page shows a frozen one.
(function () {
  "use strict";
  var clock = document.getElementById("clock");
  if (!clock) return;
  var fmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
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
  }
  tick();
  setInterval(tick, 1000);
})();
