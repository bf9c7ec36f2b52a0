// Light or dark: the system's choice (prefers-color-scheme) unless the visitor picked one
// with the header's theme button; the pick is kept in localStorage. Loaded synchronously in
// <head>, so the choice is applied before the page is first drawn (app.css reads
// data-theme); the button is wired once the header exists.

const THEME_KEY = "glassarena-theme";
const THEMES = ["auto", "dark", "light"];

function storedTheme() {
  try {
    const theme = window.localStorage.getItem(THEME_KEY);
    return THEMES.includes(theme) ? theme : "auto";
  } catch {
    return "auto"; // storage refused (a private window, say): follow the system
  }
}

function applyTheme(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function showTheme(button, theme) {
  button.textContent = `Theme: ${theme}`;
  button.title = theme === "auto" ? "Following your system's setting" : `Always ${theme}`;
}

let current = storedTheme();
applyTheme(current);

function wireButton() {
  const button = document.querySelector('[data-role="theme-toggle"]');
  if (!button) return;
  button.hidden = false;
  showTheme(button, current);
  button.addEventListener("click", () => {
    current = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
    try {
      window.localStorage.setItem(THEME_KEY, current);
    } catch {
      // Not kept across pages, but this page still switches.
    }
    applyTheme(current);
    showTheme(button, current);
  });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", wireButton);
} else {
  wireButton();
}
