/* What every page of the screens does, kept out of the templates: the Content-Security-Policy
 * allows no inline script or event-handler attribute. The language menu submits on change. */
(function () {
  "use strict";
  document.querySelectorAll("form.lang select[name=language]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
