(function () {
  "use strict";
  var stories = JSON.parse(document.getElementById("stories").textContent);
  var csrf = document.body.dataset.csrf;
  var seenBase = document.body.dataset.seenBase;
  var bars = document.querySelectorAll(".bar > i");
  var mediaBox = document.getElementById("media");
  var index = 0, elapsed = 0, last = null, paused = false, holdTimer = null, held = false, el = null;

  function markSeen(s) {
    if (s.seen) return;
    s.seen = true;
    fetch(seenBase + s.id + "/seen", { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf } });
  }
  function show(i) {
    if (i < 0) i = 0;
    if (i >= stories.length) { document.body.classList.add("is-done"); if (el && el.pause) el.pause(); return; }
    index = i; elapsed = 0; last = null;
    document.body.dataset.index = String(i);
    for (var b = 0; b < bars.length; b++) bars[b].style.width = b < i ? "100%" : "0";
    var s = stories[i], m = s.media_attachment;
    mediaBox.textContent = "";
    if (m.type === "video" || m.type === "gifv") {
      el = document.createElement("video");
      el.src = m.url; el.poster = m.preview_url || ""; el.muted = true; el.autoplay = true;
      el.playsInline = true; el.setAttribute("playsinline", "");
      el.addEventListener("ended", function () { show(index + 1); });
      var p = el.play(); if (p && p.catch) p.catch(function () {});
    } else {
      el = document.createElement("img");
      el.src = m.url; el.alt = m.description || "";
    }
    el.id = "current";
    mediaBox.appendChild(el);
    document.getElementById("when").textContent = new Date(s.created_at).toLocaleTimeString();
    markSeen(s);
  }
  function tick(now) {
    if (last !== null && !paused && index < stories.length) {
      elapsed += (now - last) / 1000;
      var s = stories[index];
      var total = s.duration;
      if (el && el.tagName === "VIDEO" && el.duration) total = el.duration;
      bars[index].style.width = Math.min(100, elapsed / total * 100) + "%";
      if (elapsed >= total && !(el && el.tagName === "VIDEO" && !el.ended && el.duration)) show(index + 1);
    }
    last = now;
    requestAnimationFrame(tick);
  }
  function setPaused(on) {
    paused = on;
    document.body.classList.toggle("is-paused", on);
    if (el && el.tagName === "VIDEO") { if (on) el.pause(); else el.play().catch(function () {}); }
  }
  var viewer = document.getElementById("viewer");
  viewer.addEventListener("pointerdown", function () {
    held = false;
    holdTimer = setTimeout(function () { held = true; setPaused(true); }, 250);
  });
  viewer.addEventListener("pointerup", function (e) {
    clearTimeout(holdTimer);
    if (held) { setPaused(false); return; }
    if (document.body.classList.contains("is-done")) return;
    if (e.clientX < window.innerWidth / 3) show(index - 1); else show(index + 1);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") show(index + 1);
    else if (e.key === "ArrowLeft") show(index - 1);
    else if (e.key === " ") setPaused(!paused);
  });
  show(0);
  requestAnimationFrame(tick);
})();
