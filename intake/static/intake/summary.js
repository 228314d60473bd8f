// The printable summary's Print button: shown only when scripts run (CSP allows
// our own files only, so no inline handler). Without it, the browser's own
// Print menu does the same.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector(".summary-print");
  if (!button) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
