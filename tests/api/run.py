#!/usr/bin/env python3
"""The API document against the server: schemathesis (from PyPI, installed by `cargo xtask
setup` into .tools/python-schemathesis) generates requests from `/api/v1/openapi.json`, valid
and invalid, sends them to a running `selfos serve` with a live session, and runs every check
(`--checks all`): no 5xx, every status and body as documented, requests valid by the document
accepted, invalid ones rejected. Any failed check fails the run.

usage: run.py SERVER_URL REPORT_DIR [--max-examples N] [--seed N] [--timeout S]

`--max-examples` bounds the generated requests per operation (on top of the coverage phase's
boundary cases); `--timeout` (default 300 s) ends a run that takes longer, as a failure.

Before the run it registers an account and signs in (`hooks.py` signs in again whenever the
session ends, e.g. after the generated `DELETE /api/v1/sessions/current`).
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def vault_header() -> dict:
    """A well-formed vault header (docs/FORMAT.md §3). The server cannot unwrap the key, so
    random bytes in the envelope's layout stand for it."""
    body = {
        "format": "selfos-vault",
        "version": 1,
        "vault_id": secrets.token_hex(16),
        "kdf": {
            "algorithm": "pbkdf2-sha256",
            "iterations": 600000,
            "salt": base64.b64encode(secrets.token_bytes(16)).decode(),
        },
        "wrapped_vault_key": base64.b64encode(b"\x01" + secrets.token_bytes(92)).decode(),
    }
    return dict(body, checksum=header_checksum(body))


def header_checksum(body: dict) -> str:
    fields = {k: body[k] for k in ("format", "version", "vault_id", "kdf", "wrapped_vault_key")}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def post(url: str, body: dict, headers: dict | None = None) -> dict:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("report_dir")
    ap.add_argument("--max-examples", type=int, default=25)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    server = args.server.rstrip("/")

    username = "schemathesis-" + secrets.token_hex(4)
    credential = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    post(f"{server}/api/v1/accounts",
         {"username": username, "credential": credential, "header": vault_header()})
    print(f"registered {username}")

    os.makedirs(args.report_dir, exist_ok=True)
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS="hooks",
        PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])),
        SELFOS_API_SERVER=server,
        SELFOS_API_USER=username,
        SELFOS_API_CREDENTIAL=credential,
    )
    cmd = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", os.path.join(HERE, "schemathesis.toml"),
        "run", f"{server}/api/v1/openapi.json",
        "--checks", "all",
        "--max-examples", str(args.max_examples),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "2",
        "--request-timeout", "30",
        "--suppress-health-check", "too_slow,filter_too_much",
        "--report", "junit",
        "--report-dir", args.report_dir,
    ]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    start = time.monotonic()
    try:
        # In the report folder: schemathesis keeps its failure database (replayed first on the
        # next run) and Hypothesis its examples there.
        code = subprocess.call(cmd, env=env, timeout=args.timeout, cwd=args.report_dir)
    except subprocess.TimeoutExpired:
        print(f"schemathesis: still running after {args.timeout:.0f} s: stopped, a failure")
        return 1
    print(f"schemathesis: exit {code} after {time.monotonic() - start:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
