/*
 * The sign-in's forms (marked data-submit-once) are sent once: after the first, another
 * press of a button of the page's sign-in forms (a double-click, an impatient second press,
 * Enter again) sends nothing until the page is left.
 *
 * Why: a second submission replaces the page's navigation, so the browser drops the first
 * request's answer although the server has done what it asked (signed in under a new
 * session key, sent a code, started a pending sign-in). The second request then carries the
 * cookies of before, and its answer is the one the browser keeps: "Your sign-in timed out",
 * or a second pending sign-in whose code the cooldown holds back. One held page for all its
 * sign-in forms, not one form: "Continue", then "Send again" is the same race.
 *
 * The buttons get aria-disabled rather than `disabled`: a disabled button would leave its
 * name and value out of the submission that is leaving, and resend.js owns `disabled` for
 * its cooldown. Without JavaScript the forms are plain forms, and the server copes with a
 * second submission as before.
 */
(function () {
  "use strict";

  var FORMS = "form[data-submit-once]";
  var sent = false;

  function hold(on) {
    document.querySelectorAll(FORMS + " button[type=submit]").forEach(function (button) {
      if (on) {
        button.setAttribute("aria-disabled", "true");
      } else {
        button.removeAttribute("aria-disabled");
      }
    });
  }

  document.addEventListener("submit", function (event) {
    // Prevented already: another script sends the form itself (passkeys.js).
    if (event.defaultPrevented || !event.target.matches(FORMS)) {
      return;
    }
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
    hold(true);
  });

  // Back to this page from the back-forward cache: it is as it was left, held; let it go.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      sent = false;
      hold(false);
    }
  });
})();
