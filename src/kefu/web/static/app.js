// Kefu web shell: small progressive enhancements; every page also works without JavaScript.

// Ask before consequential actions: any button or form with data-confirm="message".
document.addEventListener("submit", (event) => {
  const form = event.target;
  const submitter = event.submitter;
  const message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Close an open menu (the language menu) when clicking elsewhere or pressing Escape.
function closeMenus(except) {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (menu !== except) menu.removeAttribute("open");
  }
}
document.addEventListener("click", (event) => {
  closeMenus(event.target.closest("details.menu"));
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeMenus(null);
});

// Keep two-factor code fields to digits.
for (const input of document.querySelectorAll("input.code-input")) {
  input.addEventListener("input", () => {
    input.value = input.value.replace(/[^0-9]/g, "").slice(0, 6);
  });
}
