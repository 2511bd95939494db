"""Enterprise login over SAML2: this site as the service provider (SP) of each organization.

python3-saml does the cryptography and the checks of the SAML specification, in strict mode.
This module builds its settings from an organization's `EnterpriseLogin`, and adds the checks
that the library leaves to applications (see `saml_response_validate`). Nothing here touches
the database or the session; organizations.sso does, with what this returns.
"""

import base64
import binascii
import copy
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import xmlsec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from lxml import etree
from onelogin.saml2 import xmlparser
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Saml2
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

logger = logging.getLogger(__name__)

METADATA_MAX_CHARS = 1_000_000
# A SAMLResponse field larger than this (base64 characters) is refused unread; real responses,
# even with many group attributes, stay well below.
RESPONSE_MAX_CHARS = 512 * 1024

SECURITY = {
    # Requests go unsigned (so the SP needs no key); every assertion must be signed.
    "authnRequestsSigned": False,
    "wantAssertionsSigned": True,
    # IdPs differ on signing the Response envelope; the assertion's signature is what counts.
    "wantMessagesSigned": False,
    "wantAssertionsEncrypted": False,
    "wantNameIdEncrypted": False,
    "wantNameId": True,
    # The email may come from the NameID, so an AttributeStatement is optional.
    "wantAttributeStatement": False,
    "allowRepeatAttributeName": False,
    # SHA-1 signatures and digests are refused (python3-saml's default is to accept them).
    "rejectDeprecatedAlgorithm": True,
    "signatureAlgorithm": Saml2.RSA_SHA256,
    "digestAlgorithm": Saml2.SHA256,
    # Let the IdP choose how people authenticate there (MFA, passkeys, ...).
    "requestedAuthnContext": False,
    "failOnAuthnContextMismatch": False,
    # Only relaxes URL syntax checks: our own URLs come from SITE_URL, and intranet IdPs and
    # the test server use single-label host names.
    "allowSingleLabelDomains": True,
}

SIGNING_CERTIFICATE_XPATH = (
    "./md:KeyDescriptor[not(contains(@use, 'encryption'))]"
    "/ds:KeyInfo/ds:X509Data/ds:X509Certificate"
)
METADATA_ROOTS = {f"{{{Saml2.NS_MD}}}EntityDescriptor", f"{{{Saml2.NS_MD}}}EntitiesDescriptor"}
# How many of an aggregate's identity providers the refusal names.
METADATA_ENTITIES_LISTED = 5
_UNSAFE_URL_CHARACTERS = re.compile(r"[\s\"'<>\\]")

# python3-saml's validation error codes, as short names for the security events.
_VALIDATION_REASONS = {
    value: name.lower()
    for name, value in vars(OneLogin_Saml2_ValidationError).items()
    if name.isupper() and isinstance(value, int)
}


class SamlMalformed(Exception):
    """The posted SAMLResponse is not a SAML Response that could be read at all."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SamlInvalid(Exception):
    """A SAML Response that was read, but fails a check; `reason` is a short code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# The service provider's URLs ---------------------------------------------------------------

def sp_entity_id(organization) -> str:
    """The SP entity ID is also where its metadata is served, as many IdPs expect."""
    return sp_metadata_url(organization)


def sp_metadata_url(organization) -> str:
    return settings.SITE_URL + reverse("organizations:sso-metadata", args=[organization.slug])


def sp_acs_url(organization) -> str:
    return settings.SITE_URL + reverse("organizations:sso-acs", args=[organization.slug])


# IdP metadata ------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    certificates: list[str]  # base64 DER, as in the metadata


def idp_metadata_parse(xml: str) -> IdpMetadata:
    """The entity ID, HTTP-Redirect sign-in URL and signing certificates of an IdP's metadata.

    Raises ValidationError with a message for support staff.
    """
    if len(xml) > METADATA_MAX_CHARS:
        raise ValidationError(
            _("The metadata is too large (over 1 MB)."), code="metadata_too_large"
        )
    try:
        root = OneLogin_Saml2_XML.to_etree(xml.strip().encode())
    except (xmlparser.DTDForbidden, xmlparser.EntitiesForbidden) as error:
        raise ValidationError(
            _("The metadata contains a DTD or entity declarations, which are not allowed."),
            code="metadata_dtd",
        ) from error
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ValidationError(
            _("The metadata is not well-formed XML: %(error)s"),
            code="metadata_not_xml", params={"error": str(error)[:200]},
        ) from error
    if root.tag not in METADATA_ROOTS:
        raise ValidationError(
            _("This is XML, but not SAML2 metadata (no md:EntityDescriptor)."),
            code="metadata_not_saml",
        )
    entity = _idp_entity(root)
    idp = OneLogin_Saml2_IdPMetadataParser.parse(
        entity, required_sso_binding=Saml2.BINDING_HTTP_REDIRECT
    )["idp"]
    entity_id = (idp.get("entityId") or "").strip()
    if not entity_id:
        raise ValidationError(_("The metadata has no entityID."), code="metadata_no_entity_id")
    sso_url = (idp.get("singleSignOnService", {}).get("url") or "").strip()
    if not sso_url:
        raise ValidationError(
            _("The metadata has no single sign-on URL with the HTTP-Redirect binding."),
            code="metadata_no_sso_url",
        )
    allowed_schemes = {"https", "http"} if settings.DEBUG else {"https"}
    if urlsplit(sso_url).scheme not in allowed_schemes or _UNSAFE_URL_CHARACTERS.search(sso_url):
        raise ValidationError(
            _("The single sign-on URL must be an https:// URL: %(url)s"),
            code="metadata_bad_sso_url", params={"url": sso_url[:200]},
        )
    certificates = _signing_certificates(entity)
    if not certificates:
        raise ValidationError(
            _("The metadata has no signing certificate (KeyDescriptor with an X509Certificate)."),
            code="metadata_no_certificate",
        )
    return IdpMetadata(entity_id=entity_id, sso_url=sso_url, certificates=certificates)


def _idp_entity(root):
    """The metadata's one EntityDescriptor with an IDPSSODescriptor, as a document of its own.

    An aggregate (EntitiesDescriptor) naming several identity providers is refused: taking the
    first would trust whichever IdP happens to be listed first.
    """
    entities = [
        entity for entity in OneLogin_Saml2_XML.query(root, "//md:EntityDescriptor")
        if OneLogin_Saml2_XML.query(entity, "./md:IDPSSODescriptor")
    ]
    if not entities:
        raise ValidationError(
            _("The metadata describes no identity provider (no EntityDescriptor with an"
            " IDPSSODescriptor)."),
            code="metadata_no_idp",
        )
    if len(entities) > 1:
        entity_ids = [
            (entity.get("entityID") or str(_("(no entityID)")))[:200]
            for entity in entities[:METADATA_ENTITIES_LISTED]
        ]
        more = len(entities) - len(entity_ids)
        raise ValidationError(
            _("The metadata describes %(count)s identity providers: %(entity_ids)s%(more)s."
            " Paste the metadata of the one identity provider this organization signs in with."),
            code="metadata_several_idps",
            params={
                "count": len(entities),
                "entity_ids": ", ".join(entity_ids),
                "more": ngettext(" and %(count)d more", " and %(count)d more", more)
                % {"count": more} if more else "",
            },
        )
    # python3-saml reads the first EntityDescriptor of the whole document (its entity_id
    # option pastes the ID into an XPath expression), so the chosen one goes alone.
    return copy.deepcopy(entities[0])


def _signing_certificates(entity) -> list[str]:
    # The same descriptor and the same query as OneLogin_Saml2_IdPMetadataParser, whose result
    # does not tell a signing certificate from an encryption-only one.
    descriptor = OneLogin_Saml2_XML.query(entity, "./md:IDPSSODescriptor")[0]
    certificates = []
    for node in OneLogin_Saml2_XML.query(descriptor, SIGNING_CERTIFICATE_XPATH):
        certificate = "".join((OneLogin_Saml2_XML.element_text(node) or "").split())
        try:
            xmlsec.Key.from_memory(
                OneLogin_Saml2_Utils.format_cert(certificate), xmlsec.KeyFormat.CERT_PEM, None
            )
        except xmlsec.Error as error:
            raise ValidationError(
                _("A signing certificate in the metadata cannot be read."),
                code="metadata_bad_certificate",
            ) from error
        if certificate not in certificates:
            certificates.append(certificate)
    return certificates


# python3-saml settings ---------------------------------------------------------------------

def _settings_dict(organization, login=None) -> dict:
    email_from_name_id = login is None or not login.email_attribute
    data = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": sp_entity_id(organization),
            "assertionConsumerService": {
                "url": sp_acs_url(organization),
                "binding": Saml2.BINDING_HTTP_POST,
            },
            "NameIDFormat": Saml2.NAMEID_EMAIL_ADDRESS if email_from_name_id
            else Saml2.NAMEID_UNSPECIFIED,
        },
        "security": dict(SECURITY),
    }
    if login is not None:
        data["idp"] = {
            "entityId": login.idp_entity_id,
            "singleSignOnService": {
                "url": login.idp_sso_url, "binding": Saml2.BINDING_HTTP_REDIRECT,
            },
            # Certificates, never fingerprints; several while the IdP rolls its key over.
            "x509certMulti": {"signing": list(login.idp_certificates)},
        }
    return data


def saml_settings(login) -> OneLogin_Saml2_Settings:
    return OneLogin_Saml2_Settings(_settings_dict(login.organization, login))


def sp_metadata_xml(organization) -> str:
    """The SP metadata the customer gives their IdP (works before the IdP is configured)."""
    metadata = OneLogin_Saml2_Settings(
        _settings_dict(organization), sp_validation_only=True
    ).get_sp_metadata()
    return metadata.decode() if isinstance(metadata, bytes) else metadata


# Sending people to the IdP -----------------------------------------------------------------

def authn_request_build(login) -> tuple[str, str]:
    """A new AuthnRequest for this organization's IdP: its ID, and the URL to send the browser
    to (HTTP-Redirect binding). No RelayState is sent: what comes back is looked up by ID."""
    request = OneLogin_Saml2_Authn_Request(saml_settings(login))
    url = OneLogin_Saml2_Utils.redirect(login.idp_sso_url, {"SAMLRequest": request.get_request()})
    return request.get_id(), url


# Reading what the IdP posts back -----------------------------------------------------------

@dataclass(frozen=True)
class ReceivedResponse:
    encoded: str
    in_response_to: str | None


def saml_response_read(encoded: str) -> ReceivedResponse:
    """Decode a posted SAMLResponse far enough to find which request it answers.

    Strict base64, XML without DTD or entities (python3-saml's hardened parser), and a
    samlp:Response root; anything else raises SamlMalformed.
    """
    if len(encoded) > RESPONSE_MAX_CHARS:
        raise SamlMalformed("too_large")
    try:
        xml = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SamlMalformed("malformed_base64") from error
    try:
        root = OneLogin_Saml2_XML.to_etree(xml)
    except (xmlparser.DTDForbidden, xmlparser.EntitiesForbidden) as error:
        raise SamlMalformed("dtd_forbidden") from error
    except (etree.XMLSyntaxError, ValueError) as error:
        raise SamlMalformed("malformed_xml") from error
    if root.tag != f"{{{Saml2.NS_SAMLP}}}Response":
        raise SamlMalformed("not_saml")
    return ReceivedResponse(encoded=encoded, in_response_to=root.get("InResponseTo") or None)


@dataclass(frozen=True)
class SamlAssertion:
    assertion_id: str
    name_id: str
    attributes: dict
    not_on_or_after: datetime | None
    # The AuthnStatement's SessionNotOnOrAfter: when the IdP wants the session it opens to end.
    session_not_on_or_after: datetime | None


def saml_response_validate(login, *, received: ReceivedResponse, request_id: str, path: str
                           ) -> SamlAssertion:
    """Validate a SAML Response that answers our AuthnRequest `request_id`; raise SamlInvalid.

    python3-saml in strict mode checks the signature (one signed assertion, our IdP's
    certificate, no SHA-1), validity times, issuer, and loosely the audience, destination and
    recipient, and refuses a SessionNotOnOrAfter already past ("session_expired"). On top: an
    AudienceRestriction must be present and name us, the Destination and
    every bearer Recipient must be exactly our ACS URL, and the signed assertion must answer
    `request_id` too.
    """
    organization = login.organization
    acs_url = sp_acs_url(organization)
    site = urlsplit(settings.SITE_URL)
    # The URL the IdP was told to post to is SITE_URL's, whatever Host or scheme reached us
    # through proxies; python3-saml compares Destination and Recipient with it.
    request_data = {
        "https": "on" if site.scheme == "https" else "off",
        "http_host": site.netloc,
        "script_name": "",
        "path_info": path,
        "post_data": {"SAMLResponse": received.encoded},
    }
    # OneLogin_Saml2_Auth.process_response(request_id=...) does exactly this, but keeps only the
    # error's text; the Response itself gives us the error code for the security event.
    try:
        response = OneLogin_Saml2_Response(saml_settings(login), received.encoded)
        response.is_valid(request_data, request_id, raise_exceptions=True)
        document = response.get_xml_document()
        assertion_id = response.get_assertion_id()
        name_id = response.get_nameid() or ""
        attributes = response.get_attributes()
        audiences = response.get_audiences()
        not_on_or_after = response.get_assertion_not_on_or_after()
        session_not_on_or_after = response.get_session_not_on_or_after()
    except OneLogin_Saml2_ValidationError as error:
        raise SamlInvalid(_VALIDATION_REASONS.get(error.code, "invalid_response")) from error
    except Exception as error:
        # Whatever else the library or xmlsec raise on hostile input is a refusal, not a crash.
        # The exception's text may quote the document: only its type is logged.
        logger.warning("SAML response refused by %s", type(error).__name__)
        raise SamlInvalid("invalid_response") from error

    if sp_entity_id(organization) not in audiences:
        raise SamlInvalid("no_audience")  # python3-saml accepts an assertion with no audience
    destination = document.get("Destination")
    if destination is not None and not _same_url(destination, acs_url):
        raise SamlInvalid("wrong_destination")
    # Exactly one assertion, and its signature verified: querying it directly is safe.
    confirmations = OneLogin_Saml2_XML.query(
        document,
        "/samlp:Response/saml:Assertion/saml:Subject/saml:SubjectConfirmation"
        f"[@Method='{Saml2.CM_BEARER}']/saml:SubjectConfirmationData",
    )
    if not confirmations or not all(
        _same_url(data.get("Recipient") or "", acs_url) for data in confirmations
    ):
        raise SamlInvalid("wrong_recipient")
    if not all(data.get("InResponseTo") == request_id for data in confirmations):
        raise SamlInvalid("wrong_in_response_to")
    if not assertion_id or len(assertion_id) > 255:
        raise SamlInvalid("bad_assertion_id")
    return SamlAssertion(
        assertion_id=assertion_id,
        name_id=name_id,
        attributes=attributes,
        not_on_or_after=_moment(not_on_or_after),
        session_not_on_or_after=_moment(session_not_on_or_after),
    )


def _moment(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp is not None else None


def _same_url(url: str, expected: str) -> bool:
    return OneLogin_Saml2_Utils.normalize_url(url.strip()) == OneLogin_Saml2_Utils.normalize_url(
        expected
    )
