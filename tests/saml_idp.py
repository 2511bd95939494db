"""A SAML2 identity provider for tests: key pairs made at test time, real signed Responses.

The Responses are built with lxml and signed with xmlsec the way IdPs do it (an enveloped
RSA-SHA256 signature over the Assertion, exclusive canonicalization, Reference URI="#<ID>"),
independently of python3-saml, which is what is under test.
"""

import base64
import secrets
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import xmlsec
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {"samlp": SAMLP, "saml": SAML, "md": MD, "ds": DS}
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

_DEFAULT = object()


@dataclass(frozen=True)
class KeyPair:
    key_pem: bytes
    cert_pem: bytes

    @property
    def cert_base64(self) -> str:
        """The certificate as metadata carries it: base64 DER, no PEM armour."""
        lines = self.cert_pem.decode().strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def key_pair_generate(directory: Path, name: str = "idp") -> KeyPair:
    """A fresh RSA-2048 key and self-signed certificate, made by the openssl command."""
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
         "-subj", f"/CN={name}.test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return KeyPair(key_pem=key.read_bytes(), cert_pem=cert.read_bytes())


def saml_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return "_" + secrets.token_hex(20)


def encode(xml: bytes) -> str:
    """What the browser posts as SAMLResponse."""
    return base64.b64encode(xml).decode()


def sign(element, keys: KeyPair, *, sha1: bool = False) -> None:
    """Sign `element` (a Response or an Assertion, inside its document) in place."""
    signature = xmlsec.template.create(
        element, xmlsec.Transform.EXCL_C14N,
        xmlsec.Transform.RSA_SHA1 if sha1 else xmlsec.Transform.RSA_SHA256, ns="ds",
    )
    # Schema order: the Signature follows the Issuer.
    element.insert(1, signature)
    reference = xmlsec.template.add_reference(
        signature, xmlsec.Transform.SHA1 if sha1 else xmlsec.Transform.SHA256,
        uri="#" + element.get("ID"),
    )
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    key = xmlsec.Key.from_memory(keys.key_pem, xmlsec.KeyFormat.PEM, None)
    key.load_cert_from_memory(keys.cert_pem, xmlsec.KeyFormat.CERT_PEM)
    context = xmlsec.SignatureContext()
    context.key = key
    context.register_id(element, "ID")
    context.sign(signature)


@dataclass
class TestIdentityProvider:
    __test__ = False  # not a pytest test class

    entity_id: str
    sso_url: str
    keys: KeyPair

    def metadata_xml(self, *, certificates: list[KeyPair] | None = None,
                     sso_binding: str = REDIRECT_BINDING) -> str:
        root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD, "ds": DS},
                             entityID=self.entity_id)
        descriptor = etree.SubElement(
            root, f"{{{MD}}}IDPSSODescriptor", WantAuthnRequestsSigned="false",
            protocolSupportEnumeration=SAMLP,
        )
        for keys in [self.keys] if certificates is None else certificates:
            key_descriptor = etree.SubElement(descriptor, f"{{{MD}}}KeyDescriptor", use="signing")
            key_info = etree.SubElement(key_descriptor, f"{{{DS}}}KeyInfo")
            x509_data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
            etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = keys.cert_base64
        etree.SubElement(descriptor, f"{{{MD}}}NameIDFormat").text = EMAIL_FORMAT
        etree.SubElement(descriptor, f"{{{MD}}}SingleSignOnService", Binding=sso_binding,
                         Location=self.sso_url)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()

    def response_xml(
        self,
        *,
        email: str,
        audience: str,
        acs_url: str,
        in_response_to: str | None,
        destination=_DEFAULT,
        recipient=_DEFAULT,
        confirmation_in_response_to=_DEFAULT,
        issuer: str | None = None,
        now: datetime | None = None,
        not_before: datetime | None = None,
        not_on_or_after: datetime | None = None,
        confirmation_not_on_or_after: datetime | None = None,
        assertion_id: str | None = None,
        attributes: dict[str, list[str]] | None = None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        signing_keys: KeyPair | None = None,
        sha1: bool = False,
    ) -> bytes:
        """A Response with one Assertion for `email`, signed unless told otherwise.

        Every field an SP must check can be set; by default it is what a correct IdP sends
        for an AuthnRequest `in_response_to` from the SP (`audience`, `acs_url`).
        """
        now = now or datetime.now(UTC)
        not_before = not_before or now - timedelta(seconds=30)
        not_on_or_after = not_on_or_after or now + timedelta(minutes=5)
        confirmation_not_on_or_after = confirmation_not_on_or_after or not_on_or_after
        issuer = issuer or self.entity_id
        destination = acs_url if destination is _DEFAULT else destination
        recipient = acs_url if recipient is _DEFAULT else recipient
        if confirmation_in_response_to is _DEFAULT:
            confirmation_in_response_to = in_response_to

        response = etree.Element(
            f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML},
            ID=new_id(), Version="2.0", IssueInstant=saml_time(now),
        )
        if destination is not None:
            response.set("Destination", destination)
        if in_response_to is not None:
            response.set("InResponseTo", in_response_to)
        etree.SubElement(response, f"{{{SAML}}}Issuer").text = issuer
        status = etree.SubElement(response, f"{{{SAMLP}}}Status")
        etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value=SUCCESS)

        assertion = etree.SubElement(
            response, f"{{{SAML}}}Assertion", ID=assertion_id or new_id(), Version="2.0",
            IssueInstant=saml_time(now),
        )
        etree.SubElement(assertion, f"{{{SAML}}}Issuer").text = issuer
        subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
        etree.SubElement(subject, f"{{{SAML}}}NameID", Format=EMAIL_FORMAT).text = email
        confirmation = etree.SubElement(subject, f"{{{SAML}}}SubjectConfirmation", Method=BEARER)
        confirmation_data = etree.SubElement(
            confirmation, f"{{{SAML}}}SubjectConfirmationData",
            NotOnOrAfter=saml_time(confirmation_not_on_or_after),
        )
        if recipient is not None:
            confirmation_data.set("Recipient", recipient)
        if confirmation_in_response_to is not None:
            confirmation_data.set("InResponseTo", confirmation_in_response_to)
        conditions = etree.SubElement(
            assertion, f"{{{SAML}}}Conditions",
            NotBefore=saml_time(not_before), NotOnOrAfter=saml_time(not_on_or_after),
        )
        if audience is not None:
            restriction = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
            etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience
        statement = etree.SubElement(
            assertion, f"{{{SAML}}}AuthnStatement", AuthnInstant=saml_time(now),
            SessionIndex=new_id(),
        )
        context = etree.SubElement(statement, f"{{{SAML}}}AuthnContext")
        etree.SubElement(context, f"{{{SAML}}}AuthnContextClassRef").text = (
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        )
        if attributes:
            attribute_statement = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")
            for name, values in attributes.items():
                attribute = etree.SubElement(attribute_statement, f"{{{SAML}}}Attribute",
                                             Name=name)
                for value in values:
                    etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value

        keys = signing_keys or self.keys
        if sign_assertion:
            sign(assertion, keys, sha1=sha1)
        if sign_response:
            sign(response, keys, sha1=sha1)
        return etree.tostring(response, xml_declaration=True, encoding="UTF-8")
