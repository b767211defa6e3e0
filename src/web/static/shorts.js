(function () {
  "use strict";
  var csrf = document.body.dataset.csrf;
  var signedIn = document.body.dataset.signedIn === "true";
  var muted = true;
  var sections = Array.prototype.slice.call(document.querySelectorAll(".short"));
  var watched = new Map();

  function post(id, action, body) {
    return fetch("/web/statuses/" + id + "/" + action, { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" }, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function report(section) {
    var w = watched.get(section);
    if (!signedIn || !w || w.reported || w.seconds < 1) return;
    w.reported = true;
    post(section.dataset.id, "view", { watched_seconds: w.seconds });
  }
  sections.forEach(function (section, i) {
    var v = section.querySelector("video");
    var w = { seconds: 0, last: 0, reported: false };
    watched.set(section, w);
    v.addEventListener("timeupdate", function () {
      var t = v.currentTime;
      // A loop starts again at 0: what was played before counts.
      if (t >= w.last) w.seconds += t - w.last;
      w.last = t;
      if (v.duration && w.seconds >= v.duration - 0.5) report(section);
    });
    var like = section.querySelector(".like"), boost = section.querySelector(".boost");
    like.addEventListener("click", function () {
      var on = like.getAttribute("aria-pressed") !== "true";
      post(section.dataset.id, on ? "favourite" : "unfavourite").then(function (s) {
        if (!s) return;
        like.setAttribute("aria-pressed", String(s.favourited));
        like.querySelector("span").textContent = s.favourites_count;
      });
    });
    boost.addEventListener("click", function () {
      var on = boost.getAttribute("aria-pressed") !== "true";
      post(section.dataset.id, on ? "reblog" : "unreblog").then(function (s) {
        if (!s) return;
        boost.setAttribute("aria-pressed", String(s.reblogged));
        boost.querySelector("span").textContent = s.reblogs_count;
      });
    });
  });
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      var v = e.target.querySelector("video");
      if (e.isIntersecting && e.intersectionRatio >= 0.6) {
        document.body.dataset.current = e.target.dataset.id;
        v.muted = muted;
        var p = v.play(); if (p && p.catch) p.catch(function () {});
        var next = e.target.nextElementSibling;
        if (next && next.querySelector) {
          var nv = next.querySelector("video");
          if (nv && nv.preload !== "auto") { nv.preload = "auto"; nv.load(); }
        }
      } else {
        v.pause();
        report(e.target);
      }
    });
  }, { threshold: [0, 0.6] });
  sections.forEach(function (s) { observer.observe(s); });
  var sound = document.getElementById("sound");
  sound.addEventListener("click", function () {
    muted = !muted;
    sound.textContent = muted ? "Sound off" : "Sound on";
    sound.setAttribute("aria-pressed", String(!muted));
    sections.forEach(function (s) { s.querySelector("video").muted = muted; });
  });
  window.addEventListener("pagehide", function () { sections.forEach(report); });
})();
