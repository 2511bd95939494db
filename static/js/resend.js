/*
 * "Didn't get a code? Send again": counts the cooldown down on the button, which carries
 * data-resend-in (seconds). The server enforces the cooldown itself; without JavaScript
 * an early press just brings back a message saying how long to wait.
 */
(function () {
  "use strict";

  // The words come from Django's JavaScript catalog (/i18n/js/, loaded first); without
  // it, the English ones.
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%s/, values[0]);
  };

  var button = document.querySelector("button[data-resend-in]");
  var seconds = button ? parseInt(button.dataset.resendIn, 10) : 0;
  if (!button || !(seconds > 0)) {
    return;
  }
  var hint = button.parentNode.querySelector(".hint");

  function render() {
    if (seconds > 0) {
      button.disabled = true;
      if (hint) {
        hint.textContent = interpolate(
          ngettext("(available in %s second)", "(available in %s seconds)", seconds), [seconds]
        );
      }
      return;
    }
    button.disabled = false;
    if (hint) {
      hint.hidden = true;
    }
  }

  // Counted against the clock rather than by ticks, which a background tab slows down.
  var until = Date.now() + seconds * 1000;
  render();
  var timer = window.setInterval(function () {
    seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    render();
    if (seconds === 0) {
      window.clearInterval(timer);
    }
  }, 250);
})();
