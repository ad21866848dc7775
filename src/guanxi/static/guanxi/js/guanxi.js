// Behaviour the pages ask for with data-* attributes, so that no template needs an inline
// script or on* handler (the Content-Security-Policy allows scripts from this site only).
// Delegated from the document, so content swapped in by htmx works too.
(function () {
  "use strict";

  function filterQuery() {
    const form = document.getElementById("filters");
    const params = new URLSearchParams(form ? new FormData(form) : undefined);
    for (const [key, value] of [...params]) if (!value) params.delete(key);
    return params;
  }

  // <select data-autosubmit data-clear="start">: submit the form on change, first emptying
  // the named fields.
  document.addEventListener("change", (event) => {
    const el = event.target.closest("[data-autosubmit]");
    if (!el || !el.form) return;
    for (const name of (el.dataset.clear || "").split(/\s+/).filter(Boolean)) {
      if (el.form.elements[name]) el.form.elements[name].value = "";
    }
    el.form.submit();
  });

  // <form data-confirm="…">: ask before submitting.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // <form data-filters-query>: carry the list's current filters in its `query` field.
    if (form.hasAttribute("data-filters-query") && form.elements.query) {
      form.elements.query.value = filterQuery().toString();
    }
  });

  document.addEventListener("click", (event) => {
    // <a data-export-link data-format="csv">: export what the filter form shows now.
    const link = event.target.closest("a[data-export-link]");
    if (link) {
      const params = filterQuery();
      params.set("format", link.dataset.format);
      link.href = link.href.split("?")[0] + "?" + params;
      return;
    }
    // <button data-print>: print the page (letters, labels).
    if (event.target.closest("[data-print]")) {
      window.print();
      return;
    }
    // <button data-fill="field-name" data-value="…">: put a value into the form's field.
    const filler = event.target.closest("[data-fill]");
    if (filler) {
      const field = filler.closest("form").querySelector(`[name="${filler.dataset.fill}"]`);
      if (field) field.value = filler.dataset.value;
    }
  });
})();
