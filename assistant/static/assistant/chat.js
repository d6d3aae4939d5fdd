// Small behaviours htmx does not cover: Enter to send, autosize, scroll-follow,
// showing the live reasoning block, copy buttons, the narrow-screen menu, dialogs.
// No inline handlers anywhere (the Content-Security-Policy forbids them): elements say what
// they want with data-* attributes and the listeners below act on them.
(function () {
  "use strict";

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }

  function scrollMessages(force) {
    var box = document.getElementById("messages");
    if (box && (force || nearBottom(box))) box.scrollTop = box.scrollHeight;
  }

  function autosize(area) {
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight, 280) + "px";
  }

  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (area.matches && area.matches("textarea[data-autosize]") && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      area.form.requestSubmit();
    }
  });

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches("textarea[data-autosize]")) return;
    autosize(area);
    var max = parseInt(area.dataset.maxChars || "0", 10);
    var errors = document.getElementById("composer-errors");
    if (max && errors) {
      errors.innerHTML = area.value.length > max
        ? '<p class="alert alert-error" role="alert">That message is ' + area.value.length.toLocaleString() + " characters; the limit is " + max.toLocaleString() + ".</p>"
        : "";
    }
  });

  document.body && document.body.addEventListener("message-sent", function () {
    var area = document.querySelector("#composer textarea");
    if (area) { area.value = ""; autosize(area); area.focus(); }
    var errors = document.getElementById("composer-errors");
    if (errors) errors.innerHTML = "";
    var empty = document.getElementById("empty-state");
    if (empty) empty.remove();
    scrollMessages(true);
  });

  document.addEventListener("htmx:sseMessage", function (event) {
    if (event.detail && event.detail.type === "reasoning") {
      var msg = event.target.closest(".msg");
      var block = msg && msg.querySelector("[data-reasoning]");
      if (block && block.hidden) { block.hidden = false; block.open = true; }
    }
    scrollMessages(false);
  });

  // A refused Send-like action (409: an answer is still being written, too many at
  // once, already replaced; 429: over a usage limit, and when it resets) says why where
  // the composer shows its errors. The typed text stays in the composer.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var errors = document.getElementById("composer-errors");
    if (!xhr || (xhr.status !== 409 && xhr.status !== 429) || !errors) return;
    var alert = document.createElement("p");
    alert.className = "alert alert-error";
    alert.setAttribute("role", "alert");
    alert.textContent = xhr.responseText;
    errors.replaceChildren(alert);
  });

  // Buttons that make sense once (Continue): gone after they worked.
  document.addEventListener("htmx:afterRequest", function (event) {
    var button = event.target;
    if (button.matches && button.matches("[data-once]") && event.detail.successful) button.remove();
  });

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.innerText).then(function () {
          copy.textContent = "Copied";
          setTimeout(function () { copy.textContent = "Copy"; }, 1500);
        });
      }
    }
    if (event.target.closest("[data-toggle-sidebar]")) {
      document.body.classList.toggle("sidebar-open");
    }
    var closer = event.target.closest("[data-close-dialog]");
    var dialog = closer && closer.closest("dialog");
    if (dialog) dialog.close();
  });

  // <button hx-get=... data-open-dialog="#inspector">: show the dialog once its content came.
  document.addEventListener("htmx:afterRequest", function (event) {
    var opener = event.detail && event.detail.elt && event.detail.elt.closest("[data-open-dialog]");
    if (!opener || !event.detail.successful) return;
    var dialog = document.querySelector(opener.dataset.openDialog);
    if (dialog && !dialog.open) dialog.showModal();
  });

  // <details data-propose-passage> under an answer: opening it fills its passage field
  // with the text last selected in that message (clicking the summary drops the selection,
  // so it is remembered as it changes).
  var lastSelection = { message: null, text: "" };
  document.addEventListener("selectionchange", function () {
    var selection = document.getSelection();
    var text = selection ? selection.toString().trim() : "";
    var node = text && selection.anchorNode;
    var message = node && (node.nodeType === 1 ? node : node.parentElement).closest(".msg");
    if (message) lastSelection = { message: message, text: text };
  });
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details[data-propose-passage]") || !details.open) return;
    var area = details.querySelector("textarea[name=quote]");
    if (area && !area.value && lastSelection.message === details.closest(".msg")) {
      area.value = lastSelection.text;
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    scrollMessages(true);
    var area = document.querySelector("#composer textarea");
    if (area) area.focus();
  });
})();
