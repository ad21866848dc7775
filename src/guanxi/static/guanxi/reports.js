// The pivot form: choosing another dataset reloads its rows, columns and measures.
document.addEventListener("change", function (event) {
  var select = event.target.closest("[data-submit-on-change]");
  if (!select) return;
  var form = select.form;
  ["rows", "columns", "measure"].forEach(function (name) {
    if (form.elements[name]) form.elements[name].disabled = true;
  });
  form.submit();
});
