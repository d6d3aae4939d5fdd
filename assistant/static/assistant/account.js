// The account page: offer the browser's own time zone when it differs from the one chosen.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("id_time_zone");
  const hint = document.getElementById("browser-zone");
  if (!select || !hint) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  const known = Array.from(select.options).some((option) => option.value === zone);
  if (!zone || !known || select.value === zone) return;
  hint.querySelector("[data-browser-zone]").textContent = zone;
  hint.hidden = false;
  hint.querySelector("[data-use-browser-zone]").addEventListener("click", () => {
    select.value = zone;
    hint.hidden = true;
  });
});
