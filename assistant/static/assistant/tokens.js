// The API token pages: copy a new token, confirm a revocation, show the date field only
// for "On a date" (no inline script under the Content-Security-Policy).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      if (!input) return;
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (error) {
        document.execCommand("copy");
      }
      const note = button.closest("section")?.querySelector("[data-copied]");
      if (note) note.hidden = false;
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  const expiry = document.getElementById("id_expiry");
  const date = document.querySelector("[data-expiry-date]");
  if (expiry && date) {
    const sync = () => {
      date.hidden = expiry.value !== "date";
    };
    expiry.addEventListener("change", sync);
    sync();
  }
});
