// The suggested reply: a button with data-insert-from / data-insert-into copies the suggestion into the
// reply textarea (editable before sending). Bound once, whether the partial came with the page or by htmx.
(function () {
  "use strict";
  if (window.clientlensInsertBound) { return; }
  window.clientlensInsertBound = true;
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("[data-insert-into]") : null;
    if (!btn) { return; }
    var from = document.getElementById(btn.dataset.insertFrom);
    var into = document.getElementById(btn.dataset.insertInto);
    if (from && into) { into.value = from.value; into.focus(); }
  });
}());
