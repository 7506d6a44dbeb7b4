// Optional enhancement: the page works without this file.
// Shows "copy the link" buttons next to permalinks and copies the absolute URL.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) {
    return; // no clipboard (an old browser, or a page not served from a secure origin)
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var link = document.getElementById(button.dataset.copy);
    if (!link) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(link.href).then(
        function () { button.textContent = button.dataset.done; },
        function () { button.hidden = true; }
      );
    });
  });
});
