// One click in the email is enough: in a real browser, the page that link opened sends the
// answer by itself. Link scanners fetch the page without running this, so they change nothing;
// without scripts, the page's button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (!form) return;
  if (typeof form.requestSubmit === "function") {
    form.requestSubmit();  // fires "submit", so pages.js's one-tap guard sees it
  } else {
    form.submit();
  }
})();
