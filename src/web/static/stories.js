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
    if (e.target.closest && e.target.closest("input, textarea, button")) return;
    if (e.key === "ArrowRight") show(index + 1);
    else if (e.key === "ArrowLeft") show(index - 1);
    else if (e.key === " ") setPaused(!paused);
  });
  // Reply and react, through the client API with the session (docs/WEB.md); typing pauses.
  var respond = document.getElementById("respond");
  var replyText = document.getElementById("reply-text");
  var note = document.getElementById("respond-note");
  function api(path, body) {
    return fetch(path, { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; }); });
  }
  function said(text) { note.textContent = text; setTimeout(function () { note.textContent = ""; }, 3000); }
  replyText.addEventListener("focus", function () { setPaused(true); });
  replyText.addEventListener("blur", function () { setPaused(false); });
  respond.addEventListener("submit", function (e) {
    e.preventDefault();
    var s = stories[index];
    if (!s || !replyText.value.trim()) return;
    api("/api/v1/stories/" + s.id + "/reply", { status: replyText.value })
      .then(function () { replyText.value = ""; said("Reply sent"); replyText.blur(); })
      .catch(function (err) { said(err.message); });
  });
  respond.addEventListener("click", function (e) {
    var b = e.target.closest("button.react");
    var s = stories[index];
    if (!b || !s) return;
    api("/api/v1/stories/" + s.id + "/react", { emoji: b.dataset.emoji })
      .then(function () { said("Sent " + b.dataset.emoji); })
      .catch(function (err) { said(err.message); });
  });
  var showStory = show;
  show = function (i) {
    showStory(i);
    var s = stories[index];
    respond.hidden = !s || index >= stories.length || (!s.can_reply && !s.can_react);
    if (s) {
      replyText.parentNode.querySelector("button[type=submit]").hidden = !s.can_reply;
      replyText.hidden = !s.can_reply;
      respond.querySelector(".reactions").hidden = !s.can_react;
    }
  };
  show(0);
  requestAnimationFrame(tick);
})();
