/*
 * Passkeys (WebAuthn): runs the browser's own passkey dialog for the forms marked
 * data-passkey="create" (personal settings) or data-passkey="get" (sign-in), and posts its
 * answer in the form's hidden "credential" field. The server keeps the challenge and checks
 * everything (mfa.passkeys); this only carries bytes between it and the browser.
 *
 * Without JavaScript or without WebAuthn the passkey forms stay hidden (they are rendered
 * `hidden`, and shown here only after the feature check), the notes marked
 * data-passkey-hide stay visible, and every other way to sign in works as before.
 * Loaded as a file from 'self', so the page's Content-Security-Policy needs no exception.
 */
(function () {
  "use strict";

  if (!(window.PublicKeyCredential && navigator.credentials && window.fetch && window.JSON)) {
    return;
  }
  document.querySelectorAll("[data-passkey-show]").forEach(function (element) {
    element.hidden = false;
  });
  document.querySelectorAll("[data-passkey-hide]").forEach(function (element) {
    element.hidden = true;
  });

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var binary = window.atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function credentialIds(list) {
    (list || []).forEach(function (descriptor) {
      descriptor.id = toBytes(descriptor.id);
    });
  }

  // The server's JSON options (py_webauthn's options_to_json) with their bytes as bytes.
  function publicKeyOptions(options) {
    options.challenge = toBytes(options.challenge);
    if (options.user) {
      options.user.id = toBytes(options.user.id);
    }
    credentialIds(options.excludeCredentials);
    credentialIds(options.allowCredentials);
    return options;
  }

  // The browser's answer as JSON, in the shape py_webauthn reads (WebAuthn's toJSON()).
  function answerJSON(credential) {
    var response = credential.response;
    var answer = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults()
        : {},
    };
    if (credential.authenticatorAttachment) {
      answer.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (response.attestationObject) {
      answer.response.attestationObject = toBase64url(response.attestationObject);
      answer.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.response.authenticatorData = toBase64url(response.authenticatorData);
      answer.response.signature = toBase64url(response.signature);
      if (response.userHandle) {
        answer.response.userHandle = toBase64url(response.userHandle);
      }
    }
    return JSON.stringify(answer);
  }

  function fetchOptions(form, signal) {
    return window
      .fetch(form.dataset.passkeyOptions, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
        signal: signal,
      })
      .then(function (response) {
        // Sent elsewhere first: to Confirm your password before adding a passkey in a
        // session whose password is not fresh (accounts.reauth), or to sign in again once
        // the sign-in timed out. Go there; the promise never settles as the page goes.
        if (response.redirected) {
          window.location.assign(response.url);
          return new Promise(function () {});
        }
        if (!response.ok) {
          throw new Error("options: " + response.status);
        }
        return response.json();
      });
  }

  function ceremony(form, extra) {
    return fetchOptions(form, extra && extra.signal).then(function (options) {
      var request = Object.assign({ publicKey: publicKeyOptions(options) }, extra || {});
      return form.dataset.passkey === "create"
        ? navigator.credentials.create(request)
        : navigator.credentials.get(request);
    });
  }

  function send(form, credential) {
    form.elements.credential.value = answerJSON(credential);
    form.submit();
  }

  function showError(form) {
    var box = form.querySelector("[data-passkey-error]");
    if (box) {
      box.querySelector("p").textContent = form.dataset.passkeyFailed;
      // Only now an error summary: until then the page has one only if the server sent it.
      box.classList.add("error-summary");
      box.hidden = false;
      box.focus();
    }
  }

  // The sign-in page's autofill offer (conditional mediation), which a press of the
  // button replaces: the server keeps one challenge per session.
  var autofill = null;
  var leaving = false;

  // Another form of the page sent (the password's): the page is being left, and the
  // autofill offer goes, its request for options with it. On a first visit that request
  // starts this browser's session (it keeps the challenge), as the password does with a
  // session of its own; answered after the password, it would replace that session's
  // cookie and so end the sign-in half-way ("Your sign-in timed out"). Cancelled first,
  // its answer never reaches the cookies.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented || event.target.hasAttribute("data-passkey")) {
      return;
    }
    leaving = true;
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
  });

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (autofill) {
        autofill.abort();
        autofill = null;
      }
      button.disabled = true;
      ceremony(form)
        .then(function (credential) {
          send(form, credential);
        })
        .catch(function () {
          button.disabled = false;
          showError(form);
        });
    });

    if (
      form.hasAttribute("data-passkey-autofill") &&
      PublicKeyCredential.isConditionalMediationAvailable
    ) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available || leaving) {
          return;
        }
        autofill = new AbortController();
        ceremony(form, { mediation: "conditional", signal: autofill.signal })
          .then(function (credential) {
            send(form, credential);
          })
          .catch(function () {
            // Aborted for the button, or dismissed: the page stays as it is.
          });
      });
    }
  });
})();
