"""NetSuite Token-Based Authentication: OAuth 1.0a (RFC 5849) signatures, really verified.

NetSuite TBA signs every request with HMAC-SHA256 over the RFC 5849 signature base string, keyed
by `consumer_secret&token_secret`, and sends `realm` = the account ID in the `Authorization:
OAuth ...` header. A nonce must be at least six characters and may not be reused; a timestamp far
from the server clock is refused. The connector's signing code is only tested if the emulator
checks all of this itself, so the base string is built here from the request as received (not
with the client library's helpers) and compared in constant time.

Every refusal answers the same generic NetSuite INVALID_LOGIN error, as the real system does;
the reason is kept in `rejections` so tests can assert *why* a request was refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

SIGNATURE_METHOD = "HMAC-SHA256"
_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')
_REQUIRED = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
)


class TbaRejectedError(Exception):
    """A request's OAuth 1.0 credentials were not accepted; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TbaCredentials:
    account: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs from an HTTP request, as it arrived on the wire."""

    method: str
    scheme: str
    host: str
    raw_path: str
    raw_query: str
    authorization: str
    body: bytes
    content_type: str


def escape(value: str) -> str:
    """RFC 5849 section 3.6 percent-encoding (unreserved characters stay as they are)."""
    return quote(value, safe="~")


def parse_authorization(header: str) -> dict[str, str]:
    if not header.lower().startswith("oauth "):
        raise TbaRejectedError("not an OAuth authorization header")
    return {key: unquote(value) for key, value in _PARAM.findall(header[6:])}


def base_string_uri(scheme: str, host: str, raw_path: str) -> str:
    host = host.lower()
    for default in ((":80", "http"), (":443", "https")):
        if host.endswith(default[0]) and scheme == default[1]:
            host = host[: -len(default[0])]
    return f"{scheme.lower()}://{host}{raw_path or '/'}"


def signature_base_string(request: SignedRequest, oauth: dict[str, str]) -> str:
    params = parse_qsl(request.raw_query, keep_blank_values=True)
    if request.content_type.startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(request.body.decode(), keep_blank_values=True)
    params += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((escape(k), escape(v)) for k, v in params))
    uri = base_string_uri(request.scheme, request.host, request.raw_path)
    return "&".join((escape(request.method.upper()), escape(uri), escape(normalized)))


def hmac_sha256(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{escape(consumer_secret)}&{escape(token_secret)}".encode()
    digest = hmac.new(key, base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class TbaVerifier:
    """Checks realm, keys, signature, timestamp window and nonce reuse for one integration."""

    def __init__(
        self,
        credentials: TbaCredentials,
        *,
        window_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.window_seconds = window_seconds
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._expiry: deque[tuple[float, tuple[str, str]]] = deque()
        self._lock = threading.Lock()
        self.rejections: Counter[str] = Counter()

    def verify(self, request: SignedRequest) -> None:
        """Raise TbaRejectedError unless the request is correctly signed and fresh."""
        try:
            self._verify(request)
        except TbaRejectedError as exc:
            with self._lock:
                self.rejections[exc.reason] += 1
            raise

    def _verify(self, request: SignedRequest) -> None:
        creds = self.credentials
        oauth = parse_authorization(request.authorization)
        missing = [name for name in _REQUIRED if not oauth.get(name)]
        if missing:
            raise TbaRejectedError(f"missing {missing[0]}")
        if _norm_account(oauth.get("realm", "")) != _norm_account(creds.account):
            raise TbaRejectedError("wrong realm")
        if oauth.get("oauth_version", "1.0") != "1.0":
            raise TbaRejectedError("unsupported oauth_version")
        if oauth["oauth_signature_method"] != SIGNATURE_METHOD:
            raise TbaRejectedError("unsupported signature method")
        if oauth["oauth_consumer_key"] != creds.consumer_key:
            raise TbaRejectedError("unknown consumer key")
        if oauth["oauth_token"] != creds.token_id:
            raise TbaRejectedError("unknown token")
        expected = hmac_sha256(
            signature_base_string(request, oauth), creds.consumer_secret, creds.token_secret
        )
        if not hmac.compare_digest(expected, oauth["oauth_signature"]):
            raise TbaRejectedError("bad signature")
        body_hash = oauth.get("oauth_body_hash")
        if body_hash is not None:
            actual = base64.b64encode(hashlib.sha1(request.body).digest()).decode()
            if not hmac.compare_digest(actual, body_hash):
                raise TbaRejectedError("body hash mismatch")
        self._check_fresh(oauth["oauth_token"], oauth["oauth_nonce"], oauth["oauth_timestamp"])

    def verify_passport(self, passport: dict[str, str]) -> None:
        """SOAP TBA (`tokenPassport`): HMAC-SHA256 over ``account&consumerKey&token&nonce&
        timestamp`` keyed ``consumerSecret&tokenSecret``; same freshness rules as REST."""
        try:
            creds = self.credentials
            if _norm_account(passport.get("account", "")) != _norm_account(creds.account):
                raise TbaRejectedError("wrong realm")
            if passport.get("consumerKey") != creds.consumer_key:
                raise TbaRejectedError("unknown consumer key")
            if passport.get("token") != creds.token_id:
                raise TbaRejectedError("unknown token")
            if passport.get("algorithm") != SIGNATURE_METHOD:
                raise TbaRejectedError("unsupported signature method")
            parts = [passport.get(k, "") for k in ("account", "consumerKey", "token")]
            parts += [passport.get("nonce", ""), passport.get("timestamp", "")]
            key = f"{creds.consumer_secret}&{creds.token_secret}".encode()
            digest = hmac.new(key, "&".join(parts).encode(), hashlib.sha256).digest()
            expected = base64.b64encode(digest).decode()
            if not hmac.compare_digest(expected, passport.get("signature", "")):
                raise TbaRejectedError("bad signature")
            self._check_fresh(creds.token_id, passport["nonce"], passport["timestamp"])
        except TbaRejectedError as exc:
            with self._lock:
                self.rejections[exc.reason] += 1
            raise

    def _check_fresh(self, token: str, nonce: str, timestamp: str) -> None:
        if not timestamp.isdigit():
            raise TbaRejectedError("malformed timestamp")
        now = self._clock()
        if abs(now - int(timestamp)) > self.window_seconds:
            raise TbaRejectedError("stale timestamp")
        if len(nonce) < 6:
            raise TbaRejectedError("nonce too short")
        key = (token, nonce)
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                _, old = self._expiry.popleft()
                if self._seen.get(old, now + 1) < now:
                    del self._seen[old]
            if key in self._seen:
                raise TbaRejectedError("nonce reused")
            expires = now + 2 * self.window_seconds
            self._seen[key] = expires
            self._expiry.append((expires, key))


def _norm_account(account: str) -> str:
    return account.strip().upper().replace("-", "_")
