// Small conveniences of the server-rendered pages (no inline code: the pages' CSP forbids it).
(function () {
  "use strict";
  var code = document.getElementById("oauth-code");
  if (code) code.addEventListener("click", function () { code.select(); });
})();
