"""Standard Webhooks signatures (https://www.standardwebhooks.com): one place for both directions.

pssync verifies them on webhook ingress (engine.webhooks) and produces them when it notifies an
owner's endpoint about an exception (governance.notify): HMAC-SHA256 over
``{id}.{timestamp}.{body}`` with the key of a ``whsec_<base64>`` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secrets are whsec_ followed by base64") from exc


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (what a sender puts in ``webhook-signature``)."""
    content = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")
