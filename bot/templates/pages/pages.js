// Improvements only: every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;

  // Show times in the browser's own zone when the participant has not chosen one yet.
  if (root.getAttribute("data-zone-chosen") === "false") {
    var zone = null;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = null; }
    var select = document.getElementById("tz");
    var listed = zone && select && Array.prototype.some.call(select.options, function (o) {
      return o.value === zone;
    });
    if (listed && zone !== root.getAttribute("data-zone")) {
      var url = new URL(window.location.href);
      url.searchParams.set("tz", zone);
      window.location.replace(url.toString());
      return;
    }
  }

  // One tap books: further taps while the first request is on its way are ignored.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.getAttribute("data-sent") === "true") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "true");
    form.setAttribute("aria-busy", "true");
  });
  // Coming back with the Back button restores the page as it was left: let it be used again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sent]"), function (form) {
      form.removeAttribute("data-sent");
      form.removeAttribute("aria-busy");
    });
  });
})();
