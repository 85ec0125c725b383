// 老幼助查: the result blanks itself when its 10 seconds are up (counted from the lookup, as the
// server's copy is), removing the person's data from the page, not just hiding it.
(function () {
  "use strict";
  var card = document.getElementById("lookup-result");
  if (!card) return;
  var deadline = Date.now() + (parseInt(card.dataset.remainingMs, 10) || 0);
  var countdown = document.getElementById("lookup-countdown");
  var timer = null;
  function blank() {
    if (card.parentNode) card.parentNode.removeChild(card);
    document.body.className = "";
    document.getElementById("lookup-blanked").hidden = false;
    document.title = document.getElementById("lookup-blanked-title").textContent;
    if (timer) clearInterval(timer);
  }
  function tick() {
    var left = deadline - Date.now();
    if (left <= 0) { blank(); return; }
    if (countdown) countdown.textContent = String(Math.ceil(left / 1000));
  }
  tick();
  timer = setInterval(tick, 200);
  // A page restored from the back/forward cache keeps its timers' old schedule: check at once.
  window.addEventListener("pageshow", tick);
})();
