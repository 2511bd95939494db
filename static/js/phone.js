/*
 * The phone step: enhances the no-JavaScript form (a country <select> and a number field)
 * with intl-tel-input: a globe until a country is chosen, a list searchable by country name
 * or calling code, the country's flag once chosen. The number is posted in E.164.
 *
 * Without JavaScript, or if the picker fails to load, the plain form keeps working: the
 * server reads the country and the number either way (mfa.forms.PhoneForm).
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-phone-form]");
  if (!form || typeof window.intlTelInput !== "function") {
    return;
  }
  var select = form.elements.namedItem("country");
  var input = form.elements.namedItem("number");
  var countryField = form.querySelector("[data-country-field]");
  if (!select || !input || !countryField) {
    return;
  }

  // The picker offers exactly the countries of the server's <select> (country_choices()),
  // so the two lists cannot disagree.
  var allowed = Array.prototype.map
    .call(select.options, function (option) { return option.value.toLowerCase(); })
    .filter(Boolean);

  var iti = window.intlTelInput(input, {
    onlyCountries: allowed,
    // "" shows the globe; a form sent back with an error keeps the country chosen.
    initialCountry: select.value.toLowerCase(),
    countrySearch: true,
    showFlags: true,
    separateDialCode: true,
    // Same-origin module import, allowed by script-src 'self'; it formats and validates.
    loadUtils: function () { return import(form.dataset.utilsUrl); },
    uiTranslations: {
      noCountrySelected: "Choose the country of your number",
      // Starts with what the button shows (the calling code), as WCAG 2.5.3 asks.
      selectedCountryAriaLabel: "${dialCode} ${countryName}: change the country of your number",
      searchPlaceholder: "Search by country or code",
      countryListAriaLabel: "Countries",
    },
  });

  // From here on the picker chooses the country; the <select> only carries it to the server.
  countryField.hidden = true;

  function syncCountry() {
    var country = iti.getSelectedCountry();
    select.value = country ? country.iso2.toUpperCase() : "";
  }

  input.addEventListener("countrychange", syncCountry);

  form.addEventListener("submit", function () {
    syncCountry();
    var e164 = "";
    try {
      e164 = iti.getNumber();
    } catch (notLoadedYet) {
      // The formatting utilities have not arrived: the server reads country + number.
    }
    if (/^\+[1-9]\d{6,14}$/.test(e164)) {
      input.value = e164;
    }
  });
})();
