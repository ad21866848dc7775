// The customer list's bulk bar: "tick all on this page", the count of ticked rows, and only
// the inputs the chosen action needs. Delegated from document, so it survives htmx swaps
// of the table. Without JavaScript every input shows and the server checks them all.
(function () {
  "use strict";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="ids"][form="bulk"]'));
  }

  function refresh() {
    var form = document.getElementById("bulk");
    if (!form) { return; }
    var ticked = boxes().filter(function (b) { return b.checked; }).length;
    var count = document.getElementById("bulk-count");
    if (count) { count.textContent = ticked ? (form.dataset.tickedLabel || "") + " " + ticked : ""; }
    var action = document.getElementById("bulk-action");
    var chosen = action ? action.value : "";
    form.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      el.hidden = el.dataset.bulkFor.split(" ").indexOf(chosen) < 0;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "bulk-all") {
      boxes().forEach(function (b) { b.checked = target.checked; });
    }
    if (target.id === "bulk-all" || target.id === "bulk-action" || (target.name === "ids" && target.form && target.form.id === "bulk")) {
      var scope = document.getElementById("bulk-scope");
      if (scope && target.name === "ids" && target.checked) { scope.value = "selected"; }
      refresh();
    }
  });
  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSwap", refresh);
})();
