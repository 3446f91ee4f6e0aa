//! The server against an adversary, in-process (tower `oneshot`) on SQLite and PostgreSQL:
//! account enumeration by timing, lock-outs by someone else's failed logins, concurrent
//! attempts racing the throttle, sessions outliving a passphrase change, a crowd of logins.
//! Requests carry a client address (`ConnectInfo`) as a real connection would.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sync_server::credential::KdfGate;
use sync_server::store::ServerStore;
use sync_server::{app, AppState, Limits};
use tower::ServiceExt;
use vault_core::store::block_on;
use vault_core::{KdfParams, MemoryStore, Passphrase, Vault};

mod common;
use common::{record, Backend};

type Store = Arc<dyn ServerStore>;

on_both_backends!(
    login_timing_does_not_tell_who_has_an_account,
    an_attacker_cannot_lock_the_owner_out,
    concurrent_wrong_logins_cannot_race_past_the_throttle,
    a_passphrase_change_ends_every_other_session,
    a_full_credential_gate_answers_429_with_retry_after,
    registration_takes_an_exact_bounded_header,
    the_storage_quota_refuses_pushes_past_it,
);

const PASS: &str = "correct horse battery staple";

#[derive(Clone)]
struct Server {
    router: axum::Router,
}

/// Open-route rate limits out of the way: these tests are about the login throttle.
fn open_limits() -> Limits {
    Limits {
        account_per_s: 10_000.0,
        address_per_min: 1_000_000.0,
    }
}

impl Server {
    fn new(state: AppState) -> Self {
        Server { router: app(state) }
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        from: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let mut req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let ip: IpAddr = from.parse().unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value, retry)
    }

    async fn login(&self, from: &str, user: &str, credential: &str) -> (StatusCode, Value) {
        let body = json!({ "username": user, "credential": credential, "device": from });
        let (st, v, _) = self
            .call("POST", "/api/v1/sessions", from, None, Some(body))
            .await;
        (st, v)
    }
}

/// A real vault's header and credential, registered as `user`.
async fn register(s: &Server, user: &str) -> String {
    let (vault, auth) = block_on(Vault::create(
        MemoryStore::new(),
        &Passphrase::new(PASS),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    let credential = auth.to_credential();
    let body =
        json!({ "username": user, "credential": credential, "header": vault.header().to_json() });
    let (st, v, _) = s
        .call("POST", "/api/v1/accounts", "192.0.2.1", None, Some(body))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    credential
}

/// A well-formed credential that is nobody's.
fn wrong() -> String {
    "A".repeat(43)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn login_timing_does_not_tell_who_has_an_account(_: &Backend, store: Store) {
    let s = Server::new(AppState::shared(store, open_limits()));
    register(&s, "ivy").await;
    // Each attempt from its own address, so no throttle answers early; fewer attempts per
    // name than the account slow-down starts at.
    let attempt = |i: usize, user: &'static str| {
        let s = s.clone();
        async move {
            let from = format!("10.1.{}.{}", i / 200, i % 200 + 1);
            let start = Instant::now();
            let (st, body) = s.login(&from, user, &wrong()).await;
            let took = start.elapsed().as_secs_f64();
            assert_eq!(
                (st, body["error"]["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("bad_credentials")),
                "the same answer for both"
            );
            took
        }
    };
    attempt(0, "ivy").await; // warm-up: first lookups, the dummy hash
    attempt(1, "nobody").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..15 {
        // Interleaved, alternating which goes first, so drift hits both alike.
        if i % 2 == 0 {
            known.push(attempt(2 * i + 2, "ivy").await);
            unknown.push(attempt(2 * i + 3, "nobody").await);
        } else {
            unknown.push(attempt(2 * i + 2, "nobody").await);
            known.push(attempt(2 * i + 3, "ivy").await);
        }
    }
    // Statistical, not a time limit: the two distributions must sit together. Without the
    // dummy check an unknown name answered ~40 times faster (0.6 ms against 23 ms).
    let (k, u) = (median(known.clone()), median(unknown.clone()));
    let ratio = k / u;
    assert!(
        (0.5..2.0).contains(&ratio),
        "median known {k:.4} s vs unknown {u:.4} s (ratio {ratio:.2}): timing tells who exists\nknown {known:?}\nunknown {unknown:?}"
    );
    // The pre-login answer has the same shape for both (its content is checked in api.rs).
    let (st_k, k, _) = s
        .call("GET", "/api/v1/accounts/ivy/kdf", "10.2.0.1", None, None)
        .await;
    let (st_u, u, _) = s
        .call("GET", "/api/v1/accounts/nobody/kdf", "10.2.0.1", None, None)
        .await;
    assert_eq!((st_k, st_u), (StatusCode::OK, StatusCode::OK));
    let keys = |v: &Value| {
        let mut k: Vec<String> = v["kdf"].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&k), keys(&u));
}

async fn an_attacker_cannot_lock_the_owner_out(_: &Backend, store: Store) {
    let s = Server::new(AppState::shared(store, open_limits()));
    let credential = register(&s, "olga").await;
    let (st, signed_in) = s.login("198.51.100.2", "olga", &credential).await;
    assert_eq!(st, StatusCode::OK);
    let token = signed_in["token"].as_str().unwrap().to_owned();
    // One address hammers the account: after the limit it only locks itself out.
    let mut statuses = Vec::new();
    for _ in 0..(sync_server::MAX_ACCOUNT_FAILURES + 10) {
        statuses.push(s.login("203.0.113.7", "olga", &wrong()).await.0);
    }
    let limit = sync_server::MAX_ACCOUNT_FAILURES;
    assert!(statuses[..limit]
        .iter()
        .all(|st| *st == StatusCode::UNAUTHORIZED));
    assert!(
        statuses[limit..]
            .iter()
            .all(|st| *st == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // ...even with the right credential from there, until the window passes.
    assert_eq!(
        s.login("203.0.113.7", "olga", &credential).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner, from another address, signs in; the signed-in device keeps working.
    let (st, body) = s.login("198.51.100.3", "olga", &credential).await;
    assert_eq!(st, StatusCode::OK, "owner locked out: {body}");
    let (st, _, _) = s
        .call("GET", "/api/v1/pull", "198.51.100.2", Some(&token), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    // Many addresses together: the account slows down past the slow-down threshold, but the
    // owner still gets in.
    let (mut failures, mut addresses) = (limit, 0);
    while failures <= sync_server::ACCOUNT_SLOWDOWN_AFTER {
        addresses += 1;
        for _ in 0..limit {
            let from = format!("203.0.114.{addresses}");
            assert_eq!(
                s.login(&from, "olga", &wrong()).await.0,
                StatusCode::UNAUTHORIZED
            );
            failures += 1;
        }
    }
    let (st, body) = s.login("198.51.100.4", "olga", &credential).await;
    assert_eq!(st, StatusCode::OK, "owner locked out: {body}");
}

async fn concurrent_wrong_logins_cannot_race_past_the_throttle(_: &Backend, store: Store) {
    // A gate wide enough that no attempt is turned away as "busy": only the throttle counts.
    let state =
        AppState::shared(store, open_limits()).with_kdf_gate(Arc::new(KdfGate::new(2, 1_000)));
    let s = Server::new(state);
    register(&s, "pat").await;
    let attempts: Vec<_> = (0..60)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.login("203.0.113.9", "pat", &wrong()).await.0 })
        })
        .collect();
    let mut checked = 0;
    for a in attempts {
        match a.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        checked,
        sync_server::MAX_ACCOUNT_FAILURES,
        "attempts that reached the credential check"
    );
}

async fn a_passphrase_change_ends_every_other_session(_: &Backend, store: Store) {
    let s = Server::new(AppState::shared(store, open_limits()));
    let (mut vault, auth) = block_on(Vault::create(
        MemoryStore::new(),
        &Passphrase::new(PASS),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    let old = auth.to_credential();
    let body =
        json!({ "username": "quinn", "credential": old, "header": vault.header().to_json() });
    assert_eq!(
        s.call("POST", "/api/v1/accounts", "192.0.2.1", None, Some(body))
            .await
            .0,
        StatusCode::CREATED
    );
    let token = |v: Value| v["token"].as_str().unwrap().to_owned();
    let laptop = token(s.login("192.0.2.2", "quinn", &old).await.1);
    let phone = token(s.login("192.0.2.3", "quinn", &old).await.1);
    let new = block_on(vault.change_passphrase(
        &Passphrase::new("a whole new passphrase"),
        KdfParams::generate().unwrap(),
    ))
    .unwrap()
    .to_credential();
    let change =
        json!({ "current_credential": old, "credential": new, "header": vault.header().to_json() });
    let (st, body, _) = s
        .call(
            "PUT",
            "/api/v1/accounts/current",
            "192.0.2.2",
            Some(&laptop),
            Some(change),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
    let pull = |t: String| {
        let s = s.clone();
        async move {
            s.call("GET", "/api/v1/pull", "192.0.2.9", Some(&t), None)
                .await
                .0
        }
    };
    assert_eq!(
        pull(phone).await,
        StatusCode::UNAUTHORIZED,
        "old session alive"
    );
    assert_eq!(
        pull(laptop.clone()).await,
        StatusCode::OK,
        "the changer stays"
    );
    let (_, devices, _) = s
        .call("GET", "/api/v1/sessions", "192.0.2.2", Some(&laptop), None)
        .await;
    assert_eq!(devices["sessions"].as_array().unwrap().len(), 1);
    // The phone signs in again with the new passphrase's credential.
    assert_eq!(s.login("192.0.2.3", "quinn", &new).await.0, StatusCode::OK);
}

async fn a_full_credential_gate_answers_429_with_retry_after(_: &Backend, store: Store) {
    let gate = Arc::new(KdfGate::new(1, 0));
    let state = AppState::shared(store, open_limits()).with_kdf_gate(gate.clone());
    let s = Server::new(state);
    let credential = register(&s, "rosa").await;
    // Take the one slot with a computation that waits for us.
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let busy = tokio::spawn({
        let gate = gate.clone();
        async move {
            gate.run(move || wait.recv_timeout(Duration::from_secs(60)))
                .await
        }
    });
    while gate.available() > 0 {
        tokio::task::yield_now().await;
    }
    let (st, body, retry) = s
        .call(
            "POST",
            "/api/v1/sessions",
            "192.0.2.5",
            None,
            Some(json!({ "username": "rosa", "credential": credential, "device": "d" })),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str(), retry.as_deref()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("rate_limited"),
            Some("1")
        ),
        "{body}"
    );
    // A turned-away attempt is not counted as a failure: the slot frees, the login passes.
    release.send(()).unwrap();
    busy.await.unwrap().unwrap().unwrap();
    assert_eq!(
        s.login("192.0.2.5", "rosa", &credential).await.0,
        StatusCode::OK
    );
}

async fn registration_takes_an_exact_bounded_header(_: &Backend, store: Store) {
    let s = Server::new(AppState::shared(store, open_limits()));
    let (vault, auth) = block_on(Vault::create(
        MemoryStore::new(),
        &Passphrase::new(PASS),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    let credential = auth.to_credential();
    let mut padded = vault.header().to_json();
    padded["x"] = Value::String("A".repeat(3 * 1024 * 1024));
    let mut small_extra = vault.header().to_json();
    small_extra["note"] = json!("hello");
    for (header, why) in [(padded, "3 MiB extra field"), (small_extra, "extra field")] {
        let body = json!({ "username": "sam", "credential": credential, "header": header });
        let (st, v, _) = s
            .call("POST", "/api/v1/accounts", "192.0.2.1", None, Some(body))
            .await;
        assert_eq!(
            (st, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{why}: {v}"
        );
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("header:"));
    }
    // The exact header is taken.
    let body =
        json!({ "username": "sam", "credential": credential, "header": vault.header().to_json() });
    assert_eq!(
        s.call("POST", "/api/v1/accounts", "192.0.2.1", None, Some(body))
            .await
            .0,
        StatusCode::CREATED
    );
}

async fn the_storage_quota_refuses_pushes_past_it(_: &Backend, store: Store) {
    let s = Server::new(AppState::shared(store, open_limits()).with_account_quota(6_000));
    let (mut vault, auth) = block_on(Vault::create(
        MemoryStore::new(),
        &Passphrase::new(PASS),
        KdfParams::generate().unwrap(),
    ))
    .unwrap();
    let credential = auth.to_credential();
    let body =
        json!({ "username": "tess", "credential": credential, "header": vault.header().to_json() });
    s.call("POST", "/api/v1/accounts", "192.0.2.1", None, Some(body))
        .await;
    let (_, login) = s.login("192.0.2.1", "tess", &credential).await;
    let token = login["token"].as_str().unwrap().to_owned();
    let mut refused = None;
    for i in 0..40 {
        block_on(vault.insert(&record(&format!("answer number {i}")))).unwrap();
        let (entries, changes) = block_on(vault.outgoing()).unwrap();
        let push = json!({ "idempotency_key": format!("k{i}"), "changes": entries });
        let (st, v, _) = s
            .call(
                "POST",
                "/api/v1/push",
                "192.0.2.1",
                Some(&token),
                Some(push),
            )
            .await;
        if st != StatusCode::OK {
            refused = Some((i, st, v));
            break;
        }
        block_on(vault.ack_changes(&changes)).unwrap();
    }
    let (i, st, v) = refused.expect("the quota never stopped a push");
    assert!(i > 0, "the first small push fits");
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("quota"),
        "{v}"
    );
    // Nothing of the refused push was stored: the log holds exactly the accepted ones.
    let (_, pulled, _) = s
        .call(
            "GET",
            "/api/v1/pull?since=0",
            "192.0.2.1",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(pulled["changes"].as_array().unwrap().len(), i);
}
