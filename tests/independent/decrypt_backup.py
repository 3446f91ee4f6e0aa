#!/usr/bin/env python3
"""Decrypts a SelfOS encrypted backup using only docs/FORMAT.md, the Python standard
library and the `cryptography` package's AES-GCM: an independent implementation of the
format, so a user's data stays readable without SelfOS.

usage: decrypt_backup.py BACKUP.json PASSPHRASE_FILE EXPORT.json [VECTORS.json ...]

Checks the decrypted records against EXPORT.json (SelfOS's own plaintext export of the same
vault), verifies every tombstone (format 2: sealed under the vault key) and runs negative
checks (wrong passphrase, flipped bit, moved record, re-stamped clock, forged or flipped
delete). With VECTORS.json files (vault-core/tests/vectors/selfos-v1.json, selfos-v2.json),
also recomputes every step of the published vectors: key hierarchy, vault-key wrap, records,
tombstones and content. Prints "N passed, M failed" and exits non-zero on any failure.
"""
import base64
import copy
import hashlib
import hmac
import json
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MIN_ITERATIONS, MAX_ITERATIONS = 600_000, 20_000_000


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869; an empty salt means 32 zero bytes."""
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


def open_envelope(root: bytes, label: bytes, aad: bytes, env: bytes, version: int = 1) -> bytes:
    """FORMAT.md §2, in its order: known version byte, length, the purpose's version."""
    if env[:1] not in (b"\x01", b"\x02"):
        raise ValueError(f"unknown envelope version {env[:1].hex()}")
    if len(env) < 61:
        raise ValueError("truncated envelope")
    if env[0] != version:
        raise ValueError(f"envelope version {env[0]} where {version} is expected")
    key = hkdf_sha256(root, env[1:33], label)
    return AESGCM(key).decrypt(env[33:45], env[45:], aad)


def identity(namespace: str, record_id: str, version: int) -> bytes:
    ns = namespace.encode("ascii")
    if not 1 <= version < 2**53:
        raise ValueError(f"version {version} out of range")
    return struct.pack(">H", len(ns)) + ns + bytes.fromhex(record_id) + struct.pack(">Q", version)


def record_aad(namespace: str, record_id: str, version: int) -> bytes:
    """Format 1 (read only): no clock, no state."""
    return b"selfos/v1/record\x00\x01" + identity(namespace, record_id, version)


def parse_hlc(hlc: str) -> bytes:
    """`<15 decimal digits>-<8 hex>-<16 hex>` as u64be || u32be || u64be."""
    wall, counter, node = hlc.split("-")
    if (len(wall), len(counter), len(node)) != (15, 8, 16) or not wall.isdigit():
        raise ValueError(f"bad hlc {hlc}")
    return struct.pack(">QIQ", int(wall), int(counter, 16), int(node, 16))


# FORMAT.md §4.3 and §4.4: the reserved namespaces of SelfOS's own record kinds, each sealed
# under its own label.
RESERVED = {"selfos.delivery": b"selfos/v2/delivery", "selfos.proposal": b"selfos/v2/proposal"}
KIND_NAMESPACE = {"delivery": "selfos.delivery", "proposal": "selfos.proposal"}


def record_label(namespace: str) -> bytes:
    """FORMAT.md §4.3/§4.4: `selfos.delivery` seals delivery records and `selfos.proposal`
    proposal records under their own labels; every other namespace (answers) under the record
    label."""
    return RESERVED.get(namespace, b"selfos/v2/record")


def record_aad_v2(namespace: str, record_id: str, version: int, hlc: str, deleted: bool) -> bytes:
    return (record_label(namespace) + b"\x00\x02" + identity(namespace, record_id, version)
            + parse_hlc(hlc) + (b"\x01" if deleted else b"\x00"))


def open_entry(entry: dict, vault_key: bytes):
    """FORMAT.md §4: the plaintext record (a dict) of a live entry, None for a verified
    tombstone. Raises on anything inconsistent or unauthenticated."""
    if entry["envelope"] is None:
        if entry["deleted"]:
            raise ValueError("format-1 tombstone: nothing proves who made it")
        raise ValueError("live entry without an envelope")
    env = base64.b64decode(entry["envelope"])
    if env[:1] == b"\x02":
        aad = record_aad_v2(entry["namespace"], entry["id"], entry["version"], entry["hlc"], entry["deleted"])
        plain = open_envelope(vault_key, record_label(entry["namespace"]), aad, env, 2)
        if entry["deleted"]:
            if plain != b"":
                raise ValueError("a tombstone's plaintext must be empty")
            return None
    else:
        if entry["deleted"]:
            raise ValueError("deleted flag and a format-1 record envelope disagree")
        if entry["namespace"].startswith("selfos."):
            raise ValueError("a reserved namespace never holds a format-1 record")
        aad = record_aad(entry["namespace"], entry["id"], entry["version"])
        plain = open_envelope(vault_key, b"selfos/v1/record", aad, env, 1)
    record = json.loads(plain)
    # A delivery or proposal names its agent, not a namespace: its entry's namespace is the
    # reserved one of its kind.
    sealed_ns = KIND_NAMESPACE.get(record.get("kind"), record.get("namespace"))
    if bytes.fromhex(record["id"]) != bytes.fromhex(entry["id"]) or sealed_ns != entry["namespace"]:
        raise ValueError("sealed identity differs from the entry's")
    return record


def content_aad(kind: str) -> bytes:
    k = kind.encode("ascii")
    return b"selfos/v1/content\x00\x01" + struct.pack(">H", len(k)) + k


def wrap_aad(vault_id: bytes, iterations: int, salt: bytes) -> bytes:
    return (b"selfos/v1/vault-key\x00\x01" + vault_id + b"\x01"
            + struct.pack(">I", iterations) + bytes([len(salt)]) + salt)


def check_vectors_v2(v: dict, check, fails) -> None:
    """Format 2 (selfos-v2.json): records and tombstones with their clock and state."""
    x = bytes.fromhex
    vault_key = x(v["vault_key"])
    ok, tombstones, deliveries, proposals = True, 0, 0, 0
    for r in v["records"]:
        label = record_label(r["namespace"])
        ok &= r["purpose"] == label.decode()
        deliveries += label == b"selfos/v2/delivery"
        proposals += label == b"selfos/v2/proposal"
        aad = record_aad_v2(r["namespace"], r["record_id"], r["version"], r["hlc"], r["deleted"])
        env = x(r["envelope"])
        ok &= aad.hex() == r["aad"] and hkdf_sha256(vault_key, x(r["key_salt"]), label).hex() == r["content_key"]
        ok &= env[0] == 2 and open_envelope(vault_key, label, aad, env, 2).decode() == r["plaintext"]
        # No kind opens as another: answer, delivery, proposal.
        for other in {b"selfos/v2/record", *RESERVED.values()} - {label}:
            ok &= fails(lambda: open_envelope(vault_key, other, other + aad[len(label):], env, 2))
        tombstones += r["deleted"]
        # The clock and the state are authenticated.
        restamped = record_aad_v2(r["namespace"], r["record_id"], r["version"],
                                  r["hlc"][:14] + str((int(r["hlc"][14]) + 1) % 10) + r["hlc"][15:], r["deleted"])
        flipped = record_aad_v2(r["namespace"], r["record_id"], r["version"], r["hlc"], not r["deleted"])
        ok &= fails(lambda: open_envelope(vault_key, label, restamped, env, 2))
        ok &= fails(lambda: open_envelope(vault_key, label, flipped, env, 2))
        ok &= fails(lambda: open_envelope(vault_key, b"selfos/v1/record", record_aad(r["namespace"], r["record_id"], r["version"]), env, 1))
    p = v["previous_vault_key"]
    aad = PREVIOUS_KEY_LABEL + b"\x00\x01" + x(p["vault_id"])
    env = x(p["envelope"])
    check("vectors v2: a key replaced by a rotation, kept under the vault key",
          aad.hex() == p["aad"] and hkdf_sha256(vault_key, x(p["key_salt"]), PREVIOUS_KEY_LABEL).hex() == p["content_key"]
          and env[0] == 1 and open_envelope(vault_key, PREVIOUS_KEY_LABEL, aad, env).hex() == p["previous_key"]
          and fails(lambda: open_envelope(vault_key, b"selfos/v1/vault-key", aad, env))
          and fails(lambda: open_envelope(x(p["previous_key"]), PREVIOUS_KEY_LABEL, aad, env)))
    check(f"vectors v2: {len(v['records'])} entries ({tombstones} tombstones, {deliveries} deliveries, "
          f"{proposals} proposals), clock, state and kind bound",
          ok and tombstones > 0 and deliveries > 0 and proposals > 0)


def check_vectors(v: dict, check, fails) -> None:
    """Recomputes the published vectors from this file's reading of FORMAT.md."""
    if "kdf" not in v:
        return check_vectors_v2(v, check, fails)
    x = bytes.fromhex
    kdf = v["kdf"]
    master = hashlib.pbkdf2_hmac("sha256", kdf["passphrase"].encode(), x(kdf["salt"]), kdf["iterations"], 32)
    kek = hkdf_sha256(master, b"", b"selfos/v1/key-encryption-key")
    check("vectors: master key, KEK and auth secret",
          (master.hex(), kek.hex(), hkdf_sha256(master, b"", b"selfos/v1/server-auth").hex())
          == (kdf["master_key"], kdf["kek"], kdf["auth_secret"]))
    w = v["vault_key_wrap"]
    aad = wrap_aad(x(w["vault_id"]), kdf["iterations"], x(kdf["salt"]))
    vault_key = open_envelope(kek, b"selfos/v1/vault-key", aad, x(w["envelope"]))
    check("vectors: the vault-key wrap", aad.hex() == w["aad"] and vault_key.hex() == w["vault_key"])
    ok = True
    for r in v["records"]:
        aad = record_aad(r["namespace"], r["record_id"], r["version"])
        env = x(r["envelope"])
        ok &= aad.hex() == r["aad"] and hkdf_sha256(vault_key, x(r["key_salt"]), b"selfos/v1/record").hex() == r["content_key"]
        ok &= open_envelope(vault_key, b"selfos/v1/record", aad, env).decode() == r["plaintext"]
    check(f"vectors: {len(v['records'])} records", ok)
    for c in v["content"]:
        aad, env = content_aad(c["kind"]), x(c["envelope"])
        check(f"vectors: content `{c['kind']}`",
              aad.hex() == c["aad"]
              and hkdf_sha256(vault_key, x(c["key_salt"]), b"selfos/v1/content").hex() == c["content_key"]
              and open_envelope(vault_key, b"selfos/v1/content", aad, env).decode() == c["plaintext"])
        check(f"vectors: content `{c['kind']}` does not open under the record label",
              fails(lambda: open_envelope(vault_key, b"selfos/v1/record", aad, env)))


def unlock(header: dict, passphrase: bytes) -> bytes:
    body = {k: v for k, v in header.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if hashlib.sha256(canonical.encode()).hexdigest() != header["checksum"]:
        raise ValueError("header checksum mismatch")
    kdf = header["kdf"]
    salt = base64.b64decode(kdf["salt"])
    if kdf["algorithm"] != "pbkdf2-sha256":
        raise ValueError(f"unknown KDF {kdf['algorithm']}")
    if not MIN_ITERATIONS <= kdf["iterations"] <= MAX_ITERATIONS or not 16 <= len(salt) <= 64:
        raise ValueError(f"refused KDF parameters: {kdf['iterations']} iterations, {len(salt)}-byte salt")
    master = hashlib.pbkdf2_hmac("sha256", passphrase, salt, kdf["iterations"], 32)
    kek = hkdf_sha256(master, b"", b"selfos/v1/key-encryption-key")
    aad = wrap_aad(bytes.fromhex(header["vault_id"]), kdf["iterations"], salt)
    return open_envelope(kek, b"selfos/v1/vault-key", aad, base64.b64decode(header["wrapped_vault_key"]))


PREVIOUS_KEY_LABEL = b"selfos/v1/previous-vault-key"


def previous_keys(header: dict, vault_key: bytes) -> list:
    """FORMAT.md §3: the vault keys a key rotation replaced, newest first, each a version-1
    envelope under the current vault key bound to the vault id."""
    aad = PREVIOUS_KEY_LABEL + b"\x00\x01" + bytes.fromhex(header["vault_id"])
    return [open_envelope(vault_key, PREVIOUS_KEY_LABEL, aad, base64.b64decode(e))
            for e in header.get("previous_keys", [])]


def open_entry_any(entry: dict, keys: list):
    """open_entry under the vault key, else under each key a rotation replaced."""
    for key in keys[:-1]:
        try:
            return open_entry(entry, key)
        except (InvalidTag, ValueError):
            pass
    return open_entry(entry, keys[-1])


def decrypt_records(backup: dict, vault_key, kind: str = "answers") -> dict:
    """The live answers (or, with kind="delivery" or "proposal", the records of that kind)
    by id."""
    namespace = KIND_NAMESPACE.get(kind)
    out = {}
    keys = vault_key if isinstance(vault_key, list) else [vault_key]
    for entry in backup["records"]:
        plain = open_entry_any(entry, keys)
        if plain is None:
            continue
        if namespace is None and entry["namespace"] in RESERVED:
            continue
        if namespace is not None and entry["namespace"] != namespace:
            continue
        plain.pop("schema")
        if namespace is not None and plain.pop("kind") != kind:
            raise ValueError(f"a {kind} entry holds another kind of record")
        out[plain["id"]] = plain
    return out


def main() -> int:
    backup = json.load(open(sys.argv[1]))
    # FORMAT.md §1: every trailing CR and LF is removed, nothing else; keys come from the
    # NFC form (the typed bytes only as the fallback for vaults made before that rule).
    typed = open(sys.argv[2], "rb").read().rstrip(b"\r\n")
    passphrase = unicodedata.normalize("NFC", typed.decode()).encode()
    export = json.load(open(sys.argv[3]))
    passed, failed = 0, 0

    def check(name, ok):
        nonlocal passed, failed
        print(("ok   " if ok else "FAIL ") + name)
        passed, failed = passed + ok, failed + (not ok)

    def fails(fn):
        try:
            fn()
            return False
        except (InvalidTag, ValueError):
            return True

    check("backup format", backup["format"] == "selfos-backup" and backup["version"] == 1)
    try:
        vault_key = unlock(backup["header"], passphrase)
    except InvalidTag:
        if passphrase == typed:
            raise
        vault_key = unlock(backup["header"], typed)
    check("vault key unwrapped with the passphrase", len(vault_key) == 32)
    kept = previous_keys(backup["header"], vault_key)
    check(f"the header keeps {len(kept)} key(s) a rotation replaced, opened under the vault key",
          len(kept) >= 1 and all(len(k) == 32 and k != vault_key for k in kept))
    moved = dict(backup["header"], vault_id="00" * 16)
    check("a kept key does not open for another vault id", fails(lambda: previous_keys(moved, vault_key)))
    keys = [vault_key] + kept
    records = decrypt_records(backup, keys)
    expected = {r["id"]: r for r in export["records"]}
    check(f"{len(records)} records decrypt and equal SelfOS's plaintext export", records == expected)
    deliveries = decrypt_records(backup, keys, "delivery")
    expected_deliveries = {d["id"]: d for d in export.get("deliveries", [])}
    check(f"{len(deliveries)} delivery records decrypt and equal the export's deliveries",
          deliveries == expected_deliveries)
    proposals = decrypt_records(backup, keys, "proposal")
    expected_proposals = {p["id"]: p for p in export.get("proposals", [])}
    check(f"{len(proposals)} proposal records decrypt and equal the export's proposals",
          len(proposals) > 0 and proposals == expected_proposals)
    deleted = [e for e in backup["records"] if e["deleted"]]
    check(f"{len(deleted)} tombstones are sealed under the vault key and absent from the export",
          len(deleted) > 0 and all(open_entry(e, vault_key) is None and e["id"] not in expected for e in deleted))
    check("a wrong passphrase fails at the unwrap", fails(lambda: unlock(backup["header"], passphrase + b"!")))
    weak = copy.deepcopy(backup["header"])
    weak["kdf"]["iterations"] = 1000
    check("a downgraded header is refused", fails(lambda: unlock(weak, passphrase)))
    live = next(e for e in backup["records"] if not e["deleted"])
    for name, mutate in [
        ("a flipped ciphertext bit", lambda e: e.update(envelope=base64.b64encode(
            (lambda b: b[:-1] + bytes([b[-1] ^ 1]))(base64.b64decode(e["envelope"]))).decode())),
        ("a replayed version", lambda e: e.update(version=e["version"] + 1)),
        ("a moved namespace", lambda e: e.update(namespace="elsewhere")),
        ("a re-stamped clock", lambda e: e.update(hlc=e["hlc"][:14] + str((int(e["hlc"][14]) + 1) % 10) + e["hlc"][15:])),
        ("a live record marked deleted", lambda e: e.update(deleted=True)),
        ("a forged delete (no envelope)", lambda e: e.update(deleted=True, envelope=None)),
    ]:
        tampered = copy.deepcopy(backup)
        tampered["records"] = [copy.deepcopy(live)]
        mutate(tampered["records"][0])
        check(f"{name} fails authentication", fails(lambda: decrypt_records(tampered, vault_key)))
    if deleted:
        tomb = copy.deepcopy(deleted[0])
        tomb["deleted"] = False
        check("a tombstone presented as a live record fails authentication", fails(lambda: open_entry(tomb, vault_key)))
    for path in sys.argv[4:]:
        check_vectors(json.load(open(path)), check, fails)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
