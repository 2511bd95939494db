/*
 * "Copy codes" on the page of new recovery codes: puts the codes, one a line, on the
 * clipboard. The button stays hidden where the browser cannot do it; "Download as text"
 * works without JavaScript.
 */
(function () {
  "use strict";

  // The words come from Django's JavaScript catalog (/i18n/js/, loaded first); without
  // it, the English ones.
  var gettext = window.gettext || function (text) { return text; };

  var button = document.querySelector("button[data-copy-codes]");
  if (!button || !navigator.clipboard || !window.isSecureContext) {
    return;
  }
  var list = document.getElementById(button.dataset.copyCodes);
  var status = document.getElementById("copy-status");
  button.hidden = false;

  button.addEventListener("click", function () {
    var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (code) {
      return code.textContent.trim();
    });
    navigator.clipboard.writeText(codes.join("\n") + "\n").then(
      function () {
        status.textContent = gettext("Codes copied. Paste them somewhere safe.");
      },
      function () {
        status.textContent = gettext(
          "Your browser did not allow copying. Download them as text instead."
        );
      }
    );
  });
})();
