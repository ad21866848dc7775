/* Guanxi: the few behaviours htmx does not cover. */
(function () {
  "use strict";

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function results() { return document.getElementById("global-search-results"); }
  function box() { return document.getElementById("global-search"); }

  function hideResults() {
    var r = results();
    if (r) { r.innerHTML = ""; }
  }

  function hits() {
    var r = results();
    return r ? Array.prototype.slice.call(r.querySelectorAll("a")) : [];
  }

  document.addEventListener("keydown", function (event) {
    // "/" anywhere outside a field jumps to the global search, as in GitHub or Gmail.
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      var input = box();
      if (input) {
        event.preventDefault();
        input.focus();
        input.select();
      }
      return;
    }
    var form = document.getElementById("global-search-form");
    if (!form || !form.contains(event.target)) { return; }
    if (event.key === "Escape") {
      hideResults();
      box().blur();
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var links = hits();
      if (!links.length) { return; }
      event.preventDefault();
      var at = links.indexOf(document.activeElement);
      var next = event.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0) { box().focus(); return; }
      links[Math.min(next, links.length - 1)].focus();
    }
  });

  // Clicking elsewhere closes the dropdown; focusing the box again brings it back.
  document.addEventListener("click", function (event) {
    var form = document.getElementById("global-search-form");
    if (form && !form.contains(event.target)) { hideResults(); }
  });
  document.addEventListener("focusin", function (event) {
    var input = box();
    if (event.target === input && input.value.trim() && !results().innerHTML.trim() && window.htmx) {
      window.htmx.trigger(input, "search");
    }
  });
})();
