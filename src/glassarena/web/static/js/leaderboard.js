// Apply the leaderboard filters as soon as they change; the Apply button stays for no-JS use.
const form = document.querySelector('[data-role="leaderboard-controls"]');
if (form) {
  form.querySelector('[data-role="apply"]').hidden = true;
  for (const control of form.querySelectorAll("select, input")) {
    control.addEventListener("change", () => form.requestSubmit());
  }
}
