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

  // The words come from Django's JavaScript catalog (/i18n/js/, loaded first); without
  // it, the English ones.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%s/, values[0]);
  };

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
    // Formats as the member types, for the chosen country (libphonenumber's as-you-type
    // formatter, from the utils below). strictMode takes digits only: the formatter puts
    // the spaces in, so a typed space is not needed (and would stop the formatting).
    formatAsYouType: true,
    strictMode: true,
    // The rejected space is not a mistake: no shake for it.
    strictRejectAnimation: false,
    // Same-origin module import, allowed by script-src 'self'; it formats and validates.
    loadUtils: function () { return import(form.dataset.utilsUrl); },
    // Country names in the page's language, from the browser's own list (Intl.DisplayNames),
    // as intl-tel-input does for every locale it supports.
    countryNameLocale: document.documentElement.lang || "en",
    uiTranslations: {
      noCountrySelected: gettext("Choose the country of your number"),
      // Starts with what the button shows (the calling code), as WCAG 2.5.3 asks.
      selectedCountryAriaLabel: gettext(
        "${dialCode} ${countryName}: change the country of your number"
      ),
      searchPlaceholder: gettext("Search by country or code"),
      countryListAriaLabel: gettext("Countries"),
      // The picker's own words, in English the same as its defaults.
      clearSearchAriaLabel: gettext("Clear search"),
      closeCountrySelectorAriaLabel: gettext("Close"),
      searchEmptyState: gettext("No results found"),
      searchSummaryAria: function (count) {
        if (count === 0) {
          return gettext("No results found");
        }
        return interpolate(ngettext("%s result found", "%s results found", count), [count]);
      },
    },
  });

  // From here on the picker chooses the country; the <select> only carries it to the server.
  countryField.hidden = true;

  function syncCountry() {
    var country = iti.getSelectedCountry();
    select.value = country ? country.iso2.toUpperCase() : "";
  }

  // The national spelling (079 123 45 67 in Switzerland) starts with the trunk prefix,
  // which the international form beside the calling code drops (+41 79 123 45 67). Left
  // in, the picker cannot format the number and shows "+41 0791234567". This runs after
  // the picker's own input listener (typed, pasted or autofilled): the prefix goes, and the
  // picker is given the rest to format. A lone "0" stays until the next digit, so that the
  // first key press shows.
  input.addEventListener("input", function () {
    var country = iti.getSelectedCountry();
    var prefix = country && country.nationalPrefix;
    var value = input.value;
    if (prefix && value.indexOf(prefix) === 0 && value.length > prefix.length) {
      input.value = value.slice(prefix.length);
      input.dispatchEvent(new Event("input"));
    }
  });

  input.addEventListener("countrychange", function () {
    syncCountry();
    // A number typed before the country was chosen: formatted for it now.
    if (input.value) {
      input.dispatchEvent(new Event("input"));
    }
  });

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
