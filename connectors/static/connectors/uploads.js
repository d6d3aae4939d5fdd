// Uploads: the page (the chat, the files page) as a drop zone for the form marked
// data-upload-drop; a form marked data-upload-auto sends as soon as files are chosen; a
// form with data-confirm asks first. No inline handlers (the Content-Security-Policy).
(function () {
  "use strict";
  if (window.uploadsBound) return; // the partial may be on a page twice
  window.uploadsBound = true;
  var depth = 0;

  function dropForm() { return document.querySelector("form[data-upload-drop]"); }

  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  function dragging(on) {
    document.documentElement.classList.toggle("upload-dragging", on);
    if (!on) depth = 0;
  }

  function send(form) {
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  document.addEventListener("dragenter", function (event) {
    if (!dropForm() || !carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    dragging(true);
  });

  document.addEventListener("dragover", function (event) {
    if (!dropForm() || !carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });

  document.addEventListener("dragleave", function (event) {
    if (!dropForm() || !carriesFiles(event)) return;
    depth -= 1;
    if (depth <= 0) dragging(false);
  });

  document.addEventListener("drop", function (event) {
    var form = dropForm();
    if (!form || !carriesFiles(event)) return;
    event.preventDefault();
    dragging(false);
    var input = form.querySelector("input[type=file]");
    if (!input || !event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    send(form);
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("form[data-upload-auto] input[type=file]") && input.files.length) {
      send(input.form);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // The chat's form is sent by htmx: clear the chosen files once they are sent.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-upload-auto]")) form.reset();
  });

  // A refused upload (too large for one request: 413 before any of it was read) says
  // why in the notice, as a refused file does.
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.target;
    var notice = document.getElementById("upload-notice");
    if (!notice || !form.matches || !form.matches("form[data-upload-auto]")) return;
    var xhr = event.detail.xhr;
    var line = document.createElement("p");
    line.className = "error";
    line.setAttribute("role", "alert");
    line.textContent = xhr.status === 413
      ? "These files are too large to send at once: " + (xhr.responseText || "").trim()
      : "The files could not be added (" + xhr.status + "). Try again.";
    notice.replaceChildren(line);
    form.reset();
  });

  // The next message sent clears the chat's upload notice (it has said its piece).
  document.addEventListener("message-sent", function () {
    var notice = document.getElementById("upload-notice");
    if (notice) notice.innerHTML = "";
  });
})();
