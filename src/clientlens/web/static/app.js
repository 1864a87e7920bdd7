// clientlens pages: draw the Vega-Lite charts, auto-submit selects, confirm dangerous forms.
(function () {
  "use strict";
  function drawCharts(root) {
    if (typeof vegaEmbed === "undefined") { return; }
    root.querySelectorAll(".chart[data-spec]").forEach(function (el) {
      if (el.dataset.rendered) { return; }
      var src = document.getElementById(el.dataset.spec);
      if (!src) { return; }
      var spec = JSON.parse(src.textContent);
      var options = { actions: false, renderer: "svg" };
      var numbers = document.documentElement.dataset.numberLocale;
      if (numbers) { options.formatLocale = JSON.parse(numbers); }
      vegaEmbed(el, spec, options).then(function () {
        el.dataset.rendered = "1";
      }).catch(function (err) {
        el.dataset.rendered = "error";
        el.textContent = String(err);
      });
    });
  }
  function wire(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.dataset.confirm)) { ev.preventDefault(); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); wire(document); });
  document.addEventListener("htmx:afterSwap", function (ev) { drawCharts(ev.target); });
}());
