//! The sync API in-process (tower `oneshot`), on a real SQLite file in a temp folder, with
//! real vaults from vault-core as clients.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use sync_server::store::ServerStore;
use sync_server::{app, AppState, Limits};
use tower::ServiceExt;
use vault_core::store::block_on;
use vault_core::{KdfParams, MemoryStore, Passphrase, StoredRecord, Vault};

mod common;
use common::{record, Backend};

type Store = Arc<dyn ServerStore>;

on_both_backends!(
    two_devices_sync_through_the_server_and_converge,
    accounts_are_isolated_and_the_database_holds_no_plaintext,
    bad_requests_get_clear_json_errors,
    repeated_failed_logins_are_throttled,
    cors_admits_only_configured_origins_and_headers_are_strict,
    prelogin_does_not_reveal_who_has_an_account,
    devices_are_listed_and_revocable,
    passphrase_change_and_account_deletion,
    request_rates_are_limited_per_account,
    metrics_count_requests_by_route,
);

struct Server {
    router: axum::Router,
}

impl Server {
    fn new(store: Store) -> Self {
        Server {
            router: app(AppState::shared(store, Limits::default())),
        }
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, value)
    }

    async fn json(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.call(method, uri, token, Some(serde_json::to_vec(&body).unwrap()))
            .await
    }
}

const PASS: &str = "correct horse battery staple";

struct Client {
    vault: Vault<MemoryStore>,
    credential: String,
}

fn new_vault() -> Client {
    let (vault, auth) = block_on(Vault::create(
        MemoryStore::new(),
        &Passphrase::new(PASS),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    Client {
        vault,
        credential: auth.to_credential(),
    }
}

async fn register_and_login(s: &Server, user: &str, c: &Client) -> String {
    let (st, body) = s
        .json("POST", "/api/v1/accounts", None, json!({ "username": user, "credential": c.credential, "header": c.vault.header().to_json() }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let (st, body) = s
        .json(
            "POST",
            "/api/v1/sessions",
            None,
            json!({ "username": user, "credential": c.credential, "device": "test" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn push(s: &Server, token: &str, key: &str, changes: &[StoredRecord]) -> (StatusCode, Value) {
    s.json(
        "POST",
        "/api/v1/push",
        Some(token),
        json!({ "idempotency_key": key, "changes": changes }),
    )
    .await
}

async fn pull_all(s: &Server, token: &str, since: i64) -> (Vec<StoredRecord>, i64) {
    let (mut out, mut cursor) = (Vec::new(), since);
    loop {
        let (st, body) = s
            .call(
                "GET",
                &format!("/api/v1/pull?since={cursor}&limit=2"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        for c in body["changes"].as_array().unwrap() {
            out.push(serde_json::from_value(c["entry"].clone()).unwrap());
        }
        cursor = body["cursor"].as_i64().unwrap();
        if !body["more"].as_bool().unwrap() {
            return (out, cursor);
        }
    }
}

async fn two_devices_sync_through_the_server_and_converge(_: &Backend, store: Store) {
    let s = Server::new(store);
    let mut a = new_vault();
    let token_a = register_and_login(&s, "alice", &a).await;
    // The pre-login answer gives the KDF parameters, never the wrapped key.
    let (st, pre) = s
        .call("GET", "/api/v1/accounts/alice/kdf", None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(pre["kdf"]["iterations"], 600_000);
    assert!(pre.get("header").is_none() && !pre.to_string().contains("wrapped"));

    // Device b: restores the vault from the header served at login, with the passphrase.
    let (_, login) = s
        .json(
            "POST",
            "/api/v1/sessions",
            None,
            json!({ "username": "alice", "credential": a.credential, "device": "b" }),
        )
        .await;
    let token_b = login["token"].as_str().unwrap().to_owned();
    let backup = json!({ "format": "selfos-backup", "version": 1, "exported_at_ms": 0, "header": login["header"], "records": [] });
    let (mut b, _) = block_on(Vault::restore_backup(
        MemoryStore::new(),
        &serde_json::to_vec(&backup).unwrap(),
        &Passphrase::new(PASS),
    ))
    .unwrap();

    for i in 0..5 {
        block_on(a.vault.insert(&record(&format!("a{i}")))).unwrap();
    }
    let (entries, changes) = block_on(a.vault.outgoing()).unwrap();
    let (st, out) = push(&s, &token_a, "a-1", &entries).await;
    assert_eq!((st, out["accepted"].as_u64()), (StatusCode::OK, Some(5)));
    // A retried batch (same key) changes nothing and answers the same.
    let (_, again) = push(&s, &token_a, "a-1", &entries).await;
    assert_eq!(again, out);
    // The same changes under a new key are recognised as duplicates.
    let (_, dup) = push(&s, &token_a, "a-2", &entries).await;
    assert_eq!(
        (dup["accepted"].as_u64(), dup["duplicates"].as_u64()),
        (Some(0), Some(5))
    );
    block_on(a.vault.ack_changes(&changes)).unwrap();

    let (pulled, cursor_b) = pull_all(&s, &token_b, 0).await;
    assert_eq!(pulled.len(), 5);
    block_on(b.apply_remote(pulled)).unwrap();
    let victim = block_on(b.list()).unwrap().records[0].id;
    block_on(b.delete(&victim)).unwrap();
    let (entries, changes) = block_on(b.outgoing()).unwrap();
    assert_eq!(push(&s, &token_b, "b-1", &entries).await.0, StatusCode::OK);
    block_on(b.ack_changes(&changes)).unwrap();
    let (pulled, _) = pull_all(&s, &token_a, 5).await;
    block_on(a.vault.apply_remote(pulled)).unwrap();
    let (rest_b, _) = pull_all(&s, &token_b, cursor_b).await;
    block_on(b.apply_remote(rest_b)).unwrap();
    let names = |v: &Vault<MemoryStore>| block_on(v.list()).unwrap().records;
    assert_eq!(names(&a.vault).len(), 4);
    assert_eq!(names(&a.vault), names(&b));

    // Anyone with a session can push a delete without the vault key (a format-1 tombstone):
    // the server stores it (it cannot check a seal), and a device refuses it and keeps the
    // record (issue 17, item 1).
    let target = names(&a.vault)[0].id;
    let (mine, _) = block_on(a.vault.stored_entries()).unwrap();
    let mut forged = mine.into_iter().find(|e| e.id == target).unwrap();
    forged.version += 1;
    forged.hlc.wall_ms += 1;
    forged.deleted = true;
    forged.envelope = None;
    let (st, _) = push(&s, &token_b, "forged", &[forged]).await;
    assert_eq!(st, StatusCode::OK);
    // The log held a's five inserts and b's delete: the forged entry is the seventh.
    let (pulled, _) = pull_all(&s, &token_a, 6).await;
    assert_eq!(pulled.len(), 1);
    let report = block_on(a.vault.apply_remote(pulled)).unwrap();
    assert_eq!((report.applied, report.refused.len()), (0, 1));
    assert!(block_on(a.vault.get(&target)).unwrap().is_some());
    // An entry whose `deleted` flag and envelope disagree is refused at the door.
    let (st, body) = s
        .json(
            "POST",
            "/api/v1/push",
            Some(&token_b),
            json!({ "idempotency_key": "bad", "changes": [{
                "id": target.to_string(), "namespace": "chatgpt", "version": 9,
                "hlc": "001763800000000-00000000-0000000000000001",
                "deleted": false, "envelope": null }] }),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no envelope"));

    // Logging out ends the session.
    assert_eq!(
        s.call("DELETE", "/api/v1/sessions/current", Some(&token_b), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call("GET", "/api/v1/pull?since=0", Some(&token_b), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

async fn accounts_are_isolated_and_the_database_holds_no_plaintext(
    backend: &Backend,
    store: Store,
) {
    let s = Server::new(store);
    let mut a = new_vault();
    let b = new_vault();
    let ta = register_and_login(&s, "alice", &a).await;
    let tb = register_and_login(&s, "bob", &b).await;
    let canary = "CANARY-7d1f-plaintext-answer";
    block_on(a.vault.insert(&record(canary))).unwrap();
    let (entries, _) = block_on(a.vault.outgoing()).unwrap();
    assert_eq!(push(&s, &ta, "k", &entries).await.0, StatusCode::OK);
    assert!(
        pull_all(&s, &tb, 0).await.0.is_empty(),
        "bob sees nothing of alice's"
    );
    // Bob's idempotency keys are his own: the same key does not replay alice's answer.
    let (_, bob_push) = push(&s, &tb, "k", &[]).await;
    assert_eq!(bob_push["accepted"], 0);
    let bytes = tokio::task::block_in_place(|| backend.raw_bytes());
    assert!(
        !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
        "plaintext found in the database files"
    );
    assert!(
        !bytes
            .windows(a.credential.len())
            .any(|w| w == a.credential.as_bytes()),
        "raw credential stored"
    );
}

async fn bad_requests_get_clear_json_errors(_: &Backend, store: Store) {
    let s = Server::new(store);
    let c = new_vault();
    let token = register_and_login(&s, "carol", &c).await;
    let check = |(st, body): (StatusCode, Value), want: StatusCode, code: &str| {
        assert_eq!(st, want, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    };
    check(
        s.call(
            "POST",
            "/api/v1/push",
            Some(&token),
            Some(b"{not json".to_vec()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    check(
        s.json(
            "POST",
            "/api/v1/push",
            Some(&token),
            json!({ "idempotency_key": 5, "changes": [] }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    check(
        s.json(
            "POST",
            "/api/v1/push",
            Some(&token),
            json!({ "idempotency_key": "x", "changes": [{ "id": "nothex" }] }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    check(
        s.call(
            "POST",
            "/api/v1/push",
            Some(&token),
            Some(vec![b' '; 5 * 1024 * 1024]),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    check(
        s.json(
            "POST",
            "/api/v1/push",
            Some("forged"),
            json!({ "idempotency_key": "x", "changes": [] }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    check(
        s.call("GET", "/api/v1/pull?since=-4", Some(&token), None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    // The page size is 1 to 1,000, as the document says: outside it is refused, not clamped.
    for limit in ["0", "1001"] {
        check(
            s.call(
                "GET",
                &format!("/api/v1/pull?limit={limit}"),
                Some(&token),
                None,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        );
    }
    assert_eq!(
        s.call("GET", "/api/v1/pull?limit=1000", Some(&token), None)
            .await
            .0,
        StatusCode::OK
    );
    // The idempotency key is counted in characters (128 three-byte ones are fine), a clock
    // with a sign is not a clock, and a header's wrapped key is a 93-byte envelope.
    assert_eq!(
        push(&s, &token, &"é".repeat(128), &[]).await.0,
        StatusCode::OK
    );
    check(
        push(&s, &token, &"é".repeat(129), &[]).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let entry = |hlc: &str| {
        json!({ "id": "0123456789abcdef0123456789abcdef", "namespace": "ns", "version": 1,
                "hlc": hlc, "deleted": true, "envelope": null })
    };
    assert_eq!(
        s.json(
            "POST",
            "/api/v1/push",
            Some(&token),
            json!({ "idempotency_key": "unsigned", "changes": [entry("000000000000001-00000000-0000000000000000")] }),
        )
        .await
        .0,
        StatusCode::OK
    );
    let signed = entry("+00000000000001-00000000-0000000000000000");
    check(
        s.json(
            "POST",
            "/api/v1/push",
            Some(&token),
            json!({ "idempotency_key": "signed", "changes": [signed] }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    check(
        s.call("GET", "/api/v1/pull?since=abc", Some(&token), None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    check(
        s.call("GET", "/api/v1/nope", None, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    check(
        s.json(
            "POST",
            "/api/v1/sessions",
            None,
            json!({ "username": "carol", "credential": "A".repeat(43) }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
    );
    // Not a credential at all (the document's pattern): malformed, not a failed attempt.
    check(
        s.json(
            "POST",
            "/api/v1/sessions",
            None,
            json!({ "username": "carol", "credential": "AAAA" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let mut short_key = c.vault.header().to_json();
    short_key["wrapped_vault_key"] = "AQ==".into();
    check(
        s.json(
            "POST",
            "/api/v1/accounts",
            None,
            json!({ "username": "carol2", "credential": c.credential, "header": short_key }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    check(
        s.json("POST", "/api/v1/accounts", None, json!({ "username": "carol", "credential": c.credential, "header": c.vault.header().to_json() })).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let mut weak = c.vault.header().to_json();
    weak["kdf"]["iterations"] = 1000.into();
    check(
        s.json(
            "POST",
            "/api/v1/accounts",
            None,
            json!({ "username": "dave", "credential": c.credential, "header": weak }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_eq!(
        s.call("GET", "/healthz", None, None).await.0,
        StatusCode::OK
    );
    assert_eq!(s.call("GET", "/readyz", None, None).await.0, StatusCode::OK);
    let (st, doc) = s.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["paths"]["/api/v1/push"].is_object());
}

async fn repeated_failed_logins_are_throttled(_: &Backend, store: Store) {
    let s = Server::new(store);
    let c = new_vault();
    register_and_login(&s, "erin", &c).await;
    let wrong = json!({ "username": "erin", "credential": "A".repeat(43) });
    for _ in 0..sync_server::MAX_ACCOUNT_FAILURES {
        assert_eq!(
            s.json("POST", "/api/v1/sessions", None, wrong.clone())
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (st, body) = s.json("POST", "/api/v1/sessions", None, wrong).await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    // Even the right credential waits until the window passes.
    let right = json!({ "username": "erin", "credential": c.credential });
    assert_eq!(
        s.json("POST", "/api/v1/sessions", None, right).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account is not affected.
    let d = new_vault();
    register_and_login(&s, "frank", &d).await;
}

async fn cors_admits_only_configured_origins_and_headers_are_strict(_: &Backend, store: Store) {
    let router = sync_server::app_with(
        AppState::shared(store, Limits::default()),
        &["chrome-extension://abcdefghijklmnop".to_owned()],
    );
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/v1/push")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let ok = router
        .clone()
        .oneshot(preflight("chrome-extension://abcdefghijklmnop"))
        .await
        .unwrap();
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("chrome-extension://abcdefghijklmnop")
    );
    let evil = router
        .clone()
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let health = router
        .oneshot(
            Request::builder()
                .uri("/healthz")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    assert_eq!(health.headers()["x-frame-options"], "DENY");
    assert!(health.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
}

async fn prelogin_does_not_reveal_who_has_an_account(_: &Backend, store: Store) {
    let s = Server::new(store);
    let c = new_vault();
    register_and_login(&s, "grace", &c).await;
    let kdf = |u: &'static str| {
        let s = &s;
        async move {
            s.call("GET", &format!("/api/v1/accounts/{u}/kdf"), None, None)
                .await
        }
    };
    let (st_real, real) = kdf("grace").await;
    let (st_fake, fake) = kdf("nobody").await;
    assert_eq!((st_real, st_fake), (StatusCode::OK, StatusCode::OK));
    // Same shape, both salts 16 bytes; the made-up one is stable across calls.
    assert_eq!(real["kdf"]["algorithm"], fake["kdf"]["algorithm"]);
    assert_eq!(real["kdf"]["iterations"], fake["kdf"]["iterations"]);
    assert_eq!(
        real["kdf"]["salt"].as_str().unwrap().len(),
        fake["kdf"]["salt"].as_str().unwrap().len()
    );
    assert_eq!(kdf("nobody").await.1, fake);
    // And it is not the public formula anyone could compute (keyed by the server's secret).
    use base64::Engine;
    use sha2::Digest;
    let public = sha2::Sha256::digest(b"selfos-prelogin/nobody");
    assert_ne!(
        fake["kdf"]["salt"],
        base64::engine::general_purpose::STANDARD.encode(&public[..16])
    );
}

async fn login(s: &Server, user: &str, credential: &str, device: &str) -> (StatusCode, Value) {
    s.json(
        "POST",
        "/api/v1/sessions",
        None,
        json!({ "username": user, "credential": credential, "device": device }),
    )
    .await
}

async fn devices_are_listed_and_revocable(_: &Backend, store: Store) {
    let s = Server::new(store);
    let c = new_vault();
    let laptop = register_and_login(&s, "heidi", &c).await;
    let (_, phone) = login(&s, "heidi", &c.credential, "Phone\u{7}").await;
    let phone_token = phone["token"].as_str().unwrap();
    let (st, list) = s.call("GET", "/api/v1/sessions", Some(&laptop), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(
        sessions.iter().any(|d| d["device"] == "Phone"),
        "control characters dropped: {list}"
    );
    assert!(
        !list.to_string().contains(phone_token),
        "the list never shows tokens"
    );
    assert_ne!(list["current"], phone["session_id"]);
    // Revoke the phone from the laptop: the phone's token stops working at once.
    let uri = format!("/api/v1/sessions/{}", phone["session_id"].as_str().unwrap());
    assert_eq!(
        s.call("DELETE", &uri, Some(&laptop), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call("GET", "/api/v1/pull", Some(phone_token), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.call("DELETE", &uri, Some(&laptop), None).await.0,
        StatusCode::NOT_FOUND
    );
    // Another account cannot revoke this one's sessions.
    let d = new_vault();
    let ivan = register_and_login(&s, "ivan", &d).await;
    let laptop_id = list["current"].as_str().unwrap();
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/api/v1/sessions/{laptop_id}"),
            Some(&ivan),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.call("DELETE", "/api/v1/sessions/not-an-id", Some(&laptop), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.call("GET", "/api/v1/pull", Some(&laptop), None).await.0,
        StatusCode::OK
    );
}

async fn passphrase_change_and_account_deletion(backend: &Backend, store: Store) {
    let s = Server::new(store);
    let mut c = new_vault();
    let token = register_and_login(&s, "judy", &c).await;
    block_on(c.vault.insert(&record("before the change"))).unwrap();
    let (entries, _) = block_on(c.vault.outgoing()).unwrap();
    assert_eq!(push(&s, &token, "j-1", &entries).await.0, StatusCode::OK);
    let old = c.credential.clone();
    let auth = block_on(c.vault.change_passphrase(
        &Passphrase::new("a whole new passphrase"),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    let new = auth.to_credential();
    let change = |current: &str| json!({ "current_credential": current, "credential": new, "header": c.vault.header().to_json() });
    let (st, body) = s
        .json(
            "PUT",
            "/api/v1/accounts/current",
            Some(&token),
            change(&new),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    assert_eq!(
        s.json(
            "PUT",
            "/api/v1/accounts/current",
            Some(&token),
            change(&old)
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        login(&s, "judy", &old, "x").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, fresh) = login(&s, "judy", &new, "x").await;
    assert_eq!(st, StatusCode::OK);
    // The header served at login now unlocks with the new passphrase only.
    let header = vault_core::VaultHeader::from_json(fresh["header"].clone()).unwrap();
    assert!(block_on(header.unlock(&Passphrase::new(PASS))).is_err());
    assert!(block_on(header.unlock(&Passphrase::new("a whole new passphrase"))).is_ok());
    // Deleting needs the current credential, then removes everything.
    let del = |cred: &str| json!({ "credential": cred });
    assert_eq!(
        s.json(
            "DELETE",
            "/api/v1/accounts/current",
            Some(&token),
            del(&old)
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.json(
            "DELETE",
            "/api/v1/accounts/current",
            Some(&token),
            del(&new)
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call("GET", "/api/v1/pull", Some(&token), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&s, "judy", &new, "x").await.0,
        StatusCode::UNAUTHORIZED
    );
    let envelope = entries[0].envelope.as_ref().unwrap();
    let sealed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, envelope);
    let bytes = tokio::task::block_in_place(|| backend.raw_bytes());
    // SQLite overwrites freed content (secure_delete) and empties its WAL after a deletion;
    // PostgreSQL rows are gone.
    assert!(
        !bytes.windows(sealed.len()).any(|w| w == sealed.as_bytes()),
        "deleted data still stored"
    );
    // The name is free again.
    register_and_login(&s, "judy", &new_vault()).await;
}

async fn request_rates_are_limited_per_account(_: &Backend, store: Store) {
    let limits = Limits {
        account_per_s: 2.0,
        address_per_min: 6.0,
    };
    let s = Server {
        router: app(AppState::shared(store, limits)),
    };
    let (a, b) = (new_vault(), new_vault());
    let ta = register_and_login(&s, "kim", &a).await;
    let tb = register_and_login(&s, "lee", &b).await;
    // A burst of three seconds' worth passes, then 429 with Retry-After.
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(s.call("GET", "/api/v1/pull", Some(&ta), None).await.0);
    }
    assert!(
        statuses[..6].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let req = Request::builder()
        .uri("/api/v1/pull")
        .header("authorization", format!("Bearer {ta}"))
        .body(Body::empty())
        .unwrap();
    let resp = s.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Another account is not slowed down.
    assert_eq!(
        s.call("GET", "/api/v1/pull", Some(&tb), None).await.0,
        StatusCode::OK
    );
    // Open routes are limited per address: 6 a minute here, 4 used by the two sign-ups.
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(
            s.call("GET", "/api/v1/accounts/kim/kdf", None, None)
                .await
                .0,
        );
    }
    assert_eq!(
        open.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{open:?}"
    );
}

async fn metrics_count_requests_by_route(_: &Backend, store: Store) {
    let s = Server::new(store);
    let c = new_vault();
    let token = register_and_login(&s, "mona", &c).await;
    for _ in 0..3 {
        s.call("GET", "/api/v1/pull?since=0", Some(&token), None)
            .await;
    }
    s.call("GET", "/api/v1/pull", Some("bad"), None).await;
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = s.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains(
            r#"selfos_http_requests_total{method="GET",route="/api/v1/pull",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/pull",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"selfos_http_request_duration_seconds_count{route="/api/v1/pull"} 4"#),
        "{text}"
    );
    assert!(!text.contains("mona"), "no per-account labels");
}
