// The memory page's small behaviours htmx does not cover: "select all" in the review
// inbox, focusing the text box of an edit form when it appears, and refusing an import
// file over the size limit before it is sent (the server refuses it too, with HTTP 413).
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

  function importError(form, message) {
    var box = form.querySelector("[data-import-client-error]");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function oversized(form) {
    var input = form.querySelector("input[type=file][data-max-bytes]");
    var file = input && input.files && input.files[0];
    var limit = input ? Number(input.dataset.maxBytes) : 0;
    if (!file || !limit || file.size <= limit) return "";
    return "That file is " + megabytes(file.size) + "; the limit is " + megabytes(limit) +
      ". Nothing was imported.";
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("#import-form");
    if (form) importError(form, oversized(form));
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("#import-form");
    if (!form) return;
    var problem = oversized(form);
    importError(form, problem);
    if (problem) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("#import-form");
    if (!form) return;
    importError(form, event.detail.xhr.status === 413
      ? "That file is over the size limit. Nothing was imported."
      : "The import failed (HTTP " + event.detail.xhr.status + "). Nothing was imported.");
  });
})();
