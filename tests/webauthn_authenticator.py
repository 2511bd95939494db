"""A software authenticator for request-level tests: it answers WebAuthn options the way a
browser and a passkey would, with real keys and signatures, so that py_webauthn checks
exactly what it checks in production.

Registration: an EC P-256 key, a "none" attestation (CBOR), authenticator data with the RP
ID hash, flags, counter and the attested credential; authentication: authenticator data and
an ECDSA signature over authData || SHA-256(clientDataJSON). Both as the JSON that
static/js/passkeys.js posts.
"""

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40
AAGUID = bytes(16)


@dataclass
class Credential:
    id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    @property
    def id_b64(self) -> str:
        return bytes_to_base64url(self.id)


def _cose_public_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    numbers = key.public_key().public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


class SoftAuthenticator:
    """A passkey provider: keeps its credentials, counts signatures when `counting`."""

    def __init__(self, *, origin: str = "http://testserver", user_verified: bool = True,
                 counting: bool = True):
        self.origin = origin
        self.user_verified = user_verified
        self.counting = counting
        self.credentials: list[Credential] = []

    def _flags(self, *extra: int) -> int:
        flags = FLAG_UP | (FLAG_UV if self.user_verified else 0)
        for flag in extra:
            flags |= flag
        return flags

    def create(self, options: dict | str, *, origin: str | None = None,
               rp_id: str | None = None) -> str:
        """navigator.credentials.create(): a new credential for `options`, as JSON."""
        options = json.loads(options) if isinstance(options, str) else options
        rp_id = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(
            id=secrets.token_bytes(32), private_key=key, rp_id=options["rp"]["id"],
            user_handle=base64url_to_bytes(options["user"]["id"]),
        )
        self.credentials.append(credential)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(FLAG_AT)])
            + struct.pack(">I", credential.sign_count)
            + AAGUID
            + struct.pack(">H", len(credential.id))
            + credential.id
            + _cose_public_key(key)
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = _client_data("webauthn.create", options["challenge"], origin or self.origin)
        return json.dumps({
            "id": credential.id_b64,
            "rawId": credential.id_b64,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })

    def get(self, options: dict | str, *, credential: Credential | None = None,
            origin: str | None = None, rp_id: str | None = None,
            sign_count: int | None = None) -> str:
        """navigator.credentials.get(): an assertion by `credential` (by default the first one
        that `options` allows, or, when it lists none, this authenticator's first), as JSON."""
        options = json.loads(options) if isinstance(options, str) else options
        if credential is None:
            allowed = {item["id"] for item in options.get("allowCredentials") or []}
            credential = next(
                c for c in self.credentials if not allowed or c.id_b64 in allowed
            )
        if sign_count is not None:
            credential.sign_count = sign_count
        elif self.counting:
            credential.sign_count += 1
        auth_data = (
            hashlib.sha256((rp_id or credential.rp_id).encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = _client_data("webauthn.get", options["challenge"], origin or self.origin)
        signature = credential.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps({
            "id": credential.id_b64,
            "rawId": credential.id_b64,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": bytes_to_base64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
