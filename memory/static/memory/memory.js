// The memory page's small behaviours htmx does not cover: "select all" in the review
// inbox, and focusing the text box of an edit form when it appears.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll(all.dataset.selectAll).forEach(function (box) {
      box.checked = all.checked;
    });
  });

  document.addEventListener("htmx:afterSettle", function () {
    var area = document.querySelector("textarea[data-autofocus]:not([data-focused])");
    if (!area) return;
    area.dataset.focused = "1";
    if (document.activeElement === area) return;  // already being typed in
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  });
})();
