"""schemathesis hooks for tests/api/run.py (loaded through SCHEMATHESIS_HOOKS=hooks).

- Authentication: a session of the account run.py registered, signed in again whenever the
  server answers 401 (the generated `DELETE /api/v1/sessions/current` ends it). The sign-in
  names its own client address (`X-Forwarded-For`, the server trusts the loopback proxy in
  this run), so the generated failed logins from 127.0.0.1, throttled as they should be, do
  not throttle it.
- Vault headers: the document gives every field's exact form, but a header's `checksum` is
  the SHA-256 of its other fields (docs/FORMAT.md §3), which a JSON Schema cannot say; in
  requests meant to be valid the hook writes the right checksum, as a client does (over the
  canonical form, where a whole number is an integer even if the request writes `600000.0`).
- HTTP framing: a generated extra header named `Content-Length` or `Transfer-Encoding` with a
  value that is not one (`Content-Length: >`) makes the request malformed HTTP; hyper, under
  the API, answers it with a bare 400 and closes the connection, before any route runs. Only
  that failure is dropped (a 400 with an empty body to such a request); schemathesis counts
  dropped failures in its summary.
"""

import hashlib
import json
import os
import secrets
import urllib.request

import schemathesis
from schemathesis.core.parameters import ParameterLocation

SERVER = os.environ["SELFOS_API_SERVER"]
USER = os.environ["SELFOS_API_USER"]
CREDENTIAL = os.environ["SELFOS_API_CREDENTIAL"]
HEADER_FIELDS = ("format", "version", "vault_id", "kdf", "wrapped_vault_key")


@schemathesis.auth()
class SessionAuth:
    def get(self, case, context):
        address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        req = urllib.request.Request(
            f"{SERVER}/api/v1/sessions",
            data=json.dumps({"username": USER, "credential": CREDENTIAL, "device": "schemathesis"}).encode(),
            headers={"content-type": "application/json", "x-forwarded-for": address},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())["token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _positive_body(case) -> bool:
    meta = case.meta
    if meta is None:
        return False
    component = meta.components.get(ParameterLocation.BODY)
    return component is not None and component.mode.is_positive


def _integers(value):
    """The canonical form writes whole numbers as integers (`600000`, never `600000.0`)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("header"), dict):
        return
    header = body["header"]
    if not all(k in header for k in HEADER_FIELDS) or not _positive_body(case):
        return
    fields = _integers({k: header[k] for k in HEADER_FIELDS})
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    header["checksum"] = hashlib.sha256(canonical.encode()).hexdigest()


def _bad_framing(case) -> bool:
    for name, value in (case.headers or {}).items():
        if name.lower() == "content-length" and not str(value).strip().isdigit():
            return True
        if name.lower() == "transfer-encoding":
            return True
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but the malformed-HTTP one described above."""
    dropped = response.status_code == 400 and not response.content and _bad_framing(case)
    return not dropped
