//! `vault_core::sync::Account` (what the extension, the web app and the command line use for a
//! device's account) against the real sync API in-process: the router is called through a
//! [`Transport`], so every request and answer is the one a browser or the CLI would see. The
//! transport can answer some requests itself (a 401, a 500) to reach the failure paths, and
//! counts logins, so "exactly one re-login" is checked, not assumed.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use sync_server::store::ServerStore;
use sync_server::{app, AppState, Limits};
use tower::ServiceExt;
use vault_core::store::{Batch, Current};
use vault_core::sync::{Account, AccountError, HttpRequest, HttpResponse, SyncError, Transport};
use vault_core::{
    AuthSecret, KdfParams, MemoryStore, Passphrase, StoreError, Vault, VaultError, VaultStore,
};

mod common;
use common::{record, Backend};

type Store = Arc<dyn ServerStore>;

on_both_backends!(
    register_then_login_from_the_passphrase_alone,
    a_joined_device_sees_the_first_devices_records,
    a_401_mid_round_logs_in_again_exactly_once,
    a_second_401_fails_with_a_clear_error,
    passphrase_change_reaches_both_sides,
    passphrase_change_rolls_back_when_the_server_fails,
    passphrase_change_rolls_the_server_back_when_the_device_fails,
    key_rotation_reaches_every_device_and_shuts_the_old_key_out,
    a_device_takes_a_passphrase_changed_elsewhere,
    an_account_made_before_the_nfc_rule_still_signs_in,
    an_offline_edit_meets_a_rotation_as_a_conflict,
    sign_out_ends_the_session_here_and_on_the_server,
    devices_are_listed_and_revoked,
);

const PASS: &str = "correct horse battery staple";

/// A canned answer for requests that match `method` and start with `path`, `times` times.
struct Rule {
    method: &'static str,
    path: &'static str,
    times: usize,
    status: u16,
}

#[derive(Default)]
struct Log {
    requests: Vec<(String, String)>,
    rules: Vec<Rule>,
}

/// The sync server's router behind the engine's `Transport`.
#[derive(Clone)]
struct InProcess {
    router: axum::Router,
    log: Rc<RefCell<Log>>,
}

impl InProcess {
    fn new(store: Store) -> Self {
        let limits = Limits {
            account_per_s: 10_000.0,
            address_per_min: 10_000.0,
        };
        InProcess {
            router: app(AppState::shared(store, limits)),
            log: Rc::default(),
        }
    }

    /// Answers the next `times` requests matching `method path…` with `status` instead.
    fn fail(&self, method: &'static str, path: &'static str, times: usize, status: u16) {
        self.log.borrow_mut().rules.push(Rule {
            method,
            path,
            times,
            status,
        });
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.log
            .borrow()
            .requests
            .iter()
            .filter(|(m, p)| m == method && p.starts_with(path))
            .count()
    }

    fn logins(&self) -> usize {
        self.count("POST", "/api/v1/sessions")
    }
}

impl Transport for InProcess {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        let canned = {
            let mut log = self.log.borrow_mut();
            log.requests
                .push((request.method.to_owned(), request.path.clone()));
            log.rules
                .iter_mut()
                .find(|r| {
                    r.times > 0 && r.method == request.method && request.path.starts_with(r.path)
                })
                .map(|r| {
                    r.times -= 1;
                    r.status
                })
        };
        if let Some(status) = canned {
            let code = if status == 401 {
                "unauthorized"
            } else {
                "injected"
            };
            let body =
                format!(r#"{{"error":{{"code":"{code}","message":"injected by the test"}}}}"#);
            return Ok(HttpResponse {
                status,
                retry_after_s: None,
                body: body.into_bytes(),
            });
        }
        let mut req = Request::builder().method(request.method).uri(&request.path);
        if let Some(t) = &request.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if request.body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(request.body.map(Body::from).unwrap_or_else(Body::empty))
            .map_err(|e| e.to_string())?;
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        Ok(HttpResponse {
            status,
            retry_after_s: None,
            body,
        })
    }
}

async fn new_vault<S: VaultStore>(store: S) -> (Vault<S>, AuthSecret) {
    Vault::create(
        store,
        &Passphrase::new(PASS),
        KdfParams::generate().unwrap(),
    )
    .await
    .unwrap()
}

/// A registered account on `net` with `n` answers synced.
async fn first_device(
    net: &InProcess,
    user: &str,
    n: usize,
) -> (Vault<MemoryStore>, Account<InProcess>) {
    let (mut vault, auth) = new_vault(MemoryStore::new()).await;
    let mut account = Account::new(net.clone(), user, "laptop");
    account.register(&vault, auth).await.unwrap();
    for i in 0..n {
        vault.insert(&record(&format!("answer {i}"))).await.unwrap();
    }
    let report = account.sync(&mut vault).await.unwrap();
    assert_eq!(report.pushed, n);
    (vault, account)
}

async fn register_then_login_from_the_passphrase_alone(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (vault, account) = first_device(&net, "ann", 0).await;
    assert!(account.session().is_some(), "register logs in");
    assert_eq!(net.logins(), 1);

    // A second device knows only the name and the passphrase.
    let mut other = Account::new(net.clone(), "ann", "phone");
    let kdf = other.prelogin().await.unwrap();
    assert_eq!(&kdf, vault.header().kdf());
    let header = other
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    assert_eq!(&header, vault.header());
    assert!(other.session().is_some() && other.auth().is_some());

    let mut wrong = Account::new(net.clone(), "ann", "phone");
    let e = wrong
        .login_with_passphrase(&Passphrase::new("not the passphrase"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, AccountError::Sync(SyncError::BadCredentials)),
        "{e:?}"
    );
    assert!(wrong.session().is_none() && wrong.auth().is_none());
    // The name is taken now.
    let (second, auth) = new_vault(MemoryStore::new()).await;
    let e = Account::new(net.clone(), "ann", "x")
        .register(&second, auth)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AccountError::Sync(SyncError::Rejected { status: 409, .. })
        ),
        "{e:?}"
    );
}

async fn a_joined_device_sees_the_first_devices_records(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut laptop, mut laptop_account) = first_device(&net, "bob", 3).await;

    let mut phone_account = Account::new(net.clone(), "bob", "phone");
    let mut phone = phone_account
        .join(MemoryStore::new(), &Passphrase::new(PASS))
        .await
        .unwrap();
    assert_eq!(phone.header(), laptop.header());
    assert!(
        phone.list().await.unwrap().records.is_empty(),
        "records come with the first round"
    );
    let report = phone_account.sync(&mut phone).await.unwrap();
    assert_eq!(report.applied, 3);
    let mut texts: Vec<String> = phone
        .list()
        .await
        .unwrap()
        .records
        .iter()
        .map(|r| format!("{:?}", r.answer))
        .collect();
    texts.sort();
    assert_eq!(texts.len(), 3);
    assert!(texts[0].contains("answer 0"), "{texts:?}");

    // And back: the phone's answer reaches the laptop.
    phone.insert(&record("from the phone")).await.unwrap();
    phone_account.sync(&mut phone).await.unwrap();
    laptop_account.sync(&mut laptop).await.unwrap();
    assert_eq!(laptop.list().await.unwrap().records.len(), 4);

    // Joining into a store that already holds a vault is refused, not overwritten.
    let (occupied, _) = new_vault(MemoryStore::new()).await;
    let e = Account::new(net.clone(), "bob", "tablet")
        .join(occupied.lock(), &Passphrase::new(PASS))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            AccountError::Sync(SyncError::Vault(VaultError::VaultExists))
        ),
        "{e:?}"
    );
}

async fn a_401_mid_round_logs_in_again_exactly_once(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut vault, mut account) = first_device(&net, "cyd", 0).await;
    let first = account.session().cloned().unwrap();
    for i in 0..3 {
        vault.insert(&record(&format!("late {i}"))).await.unwrap();
    }
    // The pull goes through; the push is refused once: the round logs in again and finishes.
    net.fail("POST", "/api/v1/push", 1, 401);
    let logins = net.logins();
    let report = account.sync(&mut vault).await.unwrap();
    assert_eq!(net.logins(), logins + 1, "exactly one re-login");
    assert_eq!(report.pushed, 3);
    assert!(vault.pending_changes().await.unwrap().is_empty());
    let second = account.session().cloned().unwrap();
    assert_ne!(first.token, second.token, "a new session");

    // A real 401: another device ends this one's session; the next round logs in again.
    let mut phone = Account::new(net.clone(), "cyd", "phone");
    phone
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    phone.revoke(&second.session_id).await.unwrap();
    let logins = net.logins();
    vault.insert(&record("after revoke")).await.unwrap();
    let report = account.sync(&mut vault).await.unwrap();
    assert_eq!(report.pushed, 1);
    assert_eq!(net.logins(), logins + 1);

    // Without the secret (a session kept from earlier only), a 401 cannot be recovered.
    let mut kept =
        Account::new(net.clone(), "cyd", "laptop").with_session(account.session().cloned());
    net.fail("GET", "/api/v1/pull", 1, 401);
    let e = kept.sync(&mut vault).await.unwrap_err();
    assert!(matches!(e, AccountError::SignedOut), "{e:?}");
    assert!(kept.session().is_none(), "a refused session is dropped");
}

async fn a_second_401_fails_with_a_clear_error(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut vault, mut account) = first_device(&net, "dio", 1).await;
    net.fail("GET", "/api/v1/pull", 2, 401);
    let logins = net.logins();
    let e = account.sync(&mut vault).await.unwrap_err();
    assert!(matches!(e, AccountError::SessionRejected), "{e:?}");
    assert_eq!(net.logins(), logins + 1, "one re-login, not a loop");
    let message = e.to_string();
    assert!(message.contains("sign in again"), "{message}");
    assert!(!e.is_retryable());
    // The server is fine again: the next round recovers on its own.
    account.sync(&mut vault).await.unwrap();

    // The passphrase was changed on another device: the re-login says so.
    let mut phone = Account::new(net.clone(), "dio", "phone");
    let mut phone_vault = phone
        .join(MemoryStore::new(), &Passphrase::new(PASS))
        .await
        .unwrap();
    phone
        .change_passphrase(
            &mut phone_vault,
            &Passphrase::new(PASS),
            &Passphrase::new("a brand new passphrase"),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap();
    net.fail("GET", "/api/v1/pull", 1, 401);
    let e = account.sync(&mut vault).await.unwrap_err();
    assert!(matches!(e, AccountError::CredentialsChanged), "{e:?}");
}

async fn passphrase_change_reaches_both_sides(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut vault, mut account) = first_device(&net, "eddy", 2).await;
    let new = Passphrase::new("a brand new passphrase");
    account
        .change_passphrase(
            &mut vault,
            &Passphrase::new(PASS),
            &new,
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap();
    assert!(vault.header().unlock(&new).await.is_ok());
    assert!(vault.header().unlock(&Passphrase::new(PASS)).await.is_err());
    // The server holds exactly the local header, and only the new passphrase logs in.
    let mut other = Account::new(net.clone(), "eddy", "phone");
    let header = other.login_with_passphrase(&new).await.unwrap();
    assert_eq!(&header, vault.header());
    let e = Account::new(net.clone(), "eddy", "phone")
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap_err();
    assert!(
        matches!(e, AccountError::Sync(SyncError::BadCredentials)),
        "{e:?}"
    );
    // The account re-logs in with the new secret.
    net.fail("GET", "/api/v1/pull", 1, 401);
    account.sync(&mut vault).await.unwrap();
    // A wrong current passphrase changes nothing and says so.
    let before = vault.header().clone();
    let e = account
        .change_passphrase(
            &mut vault,
            &Passphrase::new("not the passphrase"),
            &Passphrase::new("another new passphrase"),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AccountError::Sync(SyncError::Vault(VaultError::Crypto(_)))
        ),
        "{e:?}"
    );
    assert_eq!(vault.header(), &before);
}

async fn passphrase_change_rolls_back_when_the_server_fails(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut vault, mut account) = first_device(&net, "fay", 1).await;
    let before = vault.header().clone();
    net.fail("PUT", "/api/v1/accounts/current", 1, 500);
    let e = account
        .change_passphrase(
            &mut vault,
            &Passphrase::new(PASS),
            &Passphrase::new("a brand new passphrase"),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AccountError::PassphraseNotChanged(SyncError::Server { status: 500 })
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("current passphrase still opens"),
        "{e}"
    );
    // This device keeps its old wrapping, byte for byte, in memory and in the store.
    assert_eq!(vault.header(), &before);
    let store = vault.lock();
    let (vault, _) = Vault::unlock(store, &Passphrase::new(PASS)).await.unwrap();
    assert_eq!(vault.header(), &before);
    // And the server still knows the current passphrase only.
    let header = Account::new(net.clone(), "fay", "phone")
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    assert_eq!(header, before);
}

async fn passphrase_change_rolls_the_server_back_when_the_device_fails(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut vault, auth) = new_vault(Flaky::default()).await;
    let mut account = Account::new(net.clone(), "gus", "laptop");
    account.register(&vault, auth).await.unwrap();
    let before = vault.header().clone();
    vault.store().fail_writes.set(true);
    let e = account
        .change_passphrase(
            &mut vault,
            &Passphrase::new(PASS),
            &Passphrase::new("a brand new passphrase"),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AccountError::PassphraseNotChanged(SyncError::Vault(VaultError::Store(_)))
        ),
        "{e:?}"
    );
    assert_eq!(
        net.count("PUT", "/api/v1/accounts/current"),
        2,
        "changed, then put back"
    );
    assert_eq!(vault.header(), &before);
    // The server is back on the current passphrase and header.
    let header = Account::new(net.clone(), "gus", "phone")
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    assert_eq!(header, before);
    vault.store().fail_writes.set(false);
    account.sync(&mut vault).await.unwrap();
}

async fn sign_out_ends_the_session_here_and_on_the_server(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut vault, mut account) = first_device(&net, "hal", 1).await;
    let session = account.session().cloned().unwrap();
    account.sign_out().await.unwrap();
    assert!(account.session().is_none() && account.auth().is_none());
    // Nothing left to log in with.
    let e = account.sync(&mut vault).await.unwrap_err();
    assert!(matches!(e, AccountError::SignedOut), "{e:?}");
    // The old token no longer works on the server.
    let mut other = Account::new(net.clone(), "hal", "phone");
    other
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    let (devices, _) = other.devices().await.unwrap();
    assert!(
        devices.iter().all(|d| d.id != session.session_id),
        "{devices:?}"
    );
    // Offline, signing out still forgets everything here.
    net.fail("DELETE", "/api/v1/sessions/current", 1, 503);
    let e = other.sign_out().await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(other.session().is_none() && other.auth().is_none());
}

async fn devices_are_listed_and_revoked(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (_, mut laptop) = first_device(&net, "ivy", 0).await;
    let mut phone = Account::new(net.clone(), "ivy", "phone");
    phone
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    let (devices, this) = laptop.devices().await.unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(this, laptop.session().unwrap().session_id);
    let mut names: Vec<&str> = devices.iter().map(|d| d.device.as_str()).collect();
    names.sort();
    assert_eq!(names, ["laptop", "phone"]);
    let phone_id = phone.session().unwrap().session_id.clone();
    laptop.revoke(&phone_id).await.unwrap();
    let (devices, _) = laptop.devices().await.unwrap();
    assert_eq!(devices.len(), 1);
    // The phone still has its secret: listing logs it in again, as a new device session.
    let logins = net.logins();
    let (devices, this) = phone.devices().await.unwrap();
    assert_eq!(net.logins(), logins + 1);
    assert_eq!(devices.len(), 2);
    assert_ne!(this, phone_id);
}

/// A memory store whose writes can be made to fail (a full disk, a closed database).
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    fail_writes: std::cell::Cell<bool>,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.fail_writes.get() {
            Err(StoreError::Backend("injected write failure".into()))
        } else {
            Ok(())
        }
    }
}

impl VaultStore for Flaky {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_meta(key).await
    }
    async fn get_record(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_record(key).await
    }
    async fn scan_records(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan_records().await
    }
    async fn scan_pending(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan_pending().await
    }
    async fn scan_conflicts(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.inner.scan_conflicts().await
    }
    async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        self.check()?;
        self.inner.write(batch).await
    }
    async fn update_record<T, E, F>(&self, key: &str, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(Current) -> Result<(Batch, T), E>,
    {
        self.check()?;
        self.inner.update_record(key, f).await
    }
    async fn ack_pending(&self, acks: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.ack_pending(acks).await
    }
    async fn clear(&self) -> Result<(), StoreError> {
        self.check()?;
        self.inner.clear().await
    }
}

/// Issue 17 item 9: a rotation re-seals everything under a new key, ends the other devices'
/// sessions (their kept secret no longer logs in), and those devices adopt the new header
/// when they sign in again, keeping their data. The old key (what a thief of the old
/// passphrase and wrapped key holds) opens nothing written after the rotation, and a server
/// that hands a device the old header back is refused.
async fn key_rotation_reaches_every_device_and_shuts_the_old_key_out(_: &Backend, store: Store) {
    use vault_core::crypto::{RecordAad, RecordState};
    let net = InProcess::new(store);
    let (mut laptop, mut account) = first_device(&net, "ida", 3).await;
    let mut phone = Account::new(net.clone(), "ida", "phone");
    let mut phone_vault = phone
        .join(MemoryStore::new(), &Passphrase::new(PASS))
        .await
        .unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    let gone = laptop.list().await.unwrap().records[0].id;
    laptop.delete(&gone).await.unwrap();
    account.sync(&mut laptop).await.unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    let old_header = laptop.header().clone();
    let stolen = vault_core::VaultKey::from_dangerous_bytes(
        laptop.session_key().to_dangerous_bytes().as_slice(),
    )
    .unwrap();

    // A wrong passphrase changes nothing, here or on the server.
    let e = account
        .rotate_key(
            &mut laptop,
            &Passphrase::new("not the passphrase"),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AccountError::Sync(SyncError::Vault(VaultError::Crypto(_)))
        ),
        "{e:?}"
    );
    assert_eq!(laptop.header(), &old_header);

    let rotation = account
        .rotate_key(
            &mut laptop,
            &Passphrase::new(PASS),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(rotation.resealed, 3, "two answers and the tombstone");
    assert_eq!(rotation.unreadable, 0);
    assert_eq!(laptop.header().rotations(), 1);
    let report = account.sync(&mut laptop).await.unwrap();
    assert_eq!(report.pushed, 3);
    let fresh = record("written after the rotation");
    laptop.insert(&fresh).await.unwrap();
    account.sync(&mut laptop).await.unwrap();

    // The phone's kept secret no longer logs in: its session ended with the rotation.
    net.fail("GET", "/api/v1/pull", 1, 401);
    let e = phone.sync(&mut phone_vault).await.unwrap_err();
    assert!(matches!(e, AccountError::CredentialsChanged), "{e:?}");
    // Signing in again with the (same) passphrase adopts the rotated header.
    let mut phone = Account::new(net.clone(), "ida", "phone");
    let header = phone
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    assert_eq!(&header, laptop.header());
    let (mut phone_vault, _) =
        Vault::unlock_adopting(phone_vault.lock(), header, &Passphrase::new(PASS))
            .await
            .unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    let ids = |l: vault_core::Listing| -> Vec<_> { l.records.iter().map(|r| r.id).collect() };
    let phone_list = phone_vault.list().await.unwrap();
    assert!(phone_list.failures.is_empty(), "{:?}", phone_list.failures);
    assert_eq!(ids(phone_list), ids(laptop.list().await.unwrap()));
    assert!(phone_vault.get(&fresh.id).await.unwrap().is_some());
    assert!(
        phone_vault.get(&gone).await.unwrap().is_none(),
        "still deleted"
    );

    // The old key opens none of what the phone now holds (every entry was re-sealed, and
    // the new answer was sealed under the new key).
    let (entries, _) = phone_vault.stored_entries().await.unwrap();
    assert_eq!(entries.len(), 4);
    for stored in &entries {
        let aad = RecordAad::new(
            &stored.namespace,
            &stored.id,
            stored.version,
            &stored.hlc,
            RecordState::of_deleted(stored.deleted),
        );
        let envelope =
            vault_core::crypto::Envelope::parse(stored.envelope.clone().unwrap()).unwrap();
        assert!(
            vault_core::crypto::envelope::open_record(&stolen, &aad, &envelope).is_err(),
            "the old key opens {}",
            stored.id
        );
    }

    // A server that hands the phone the old header back (whose key the thief holds) is
    // refused, and nothing changes on the phone.
    let store = phone_vault.lock();
    let e = Vault::unlock_adopting(store.clone(), old_header, &Passphrase::new(PASS))
        .await
        .err()
        .unwrap();
    assert_eq!(e, VaultError::HeaderDropsKey);
    let (phone_vault, _) = Vault::unlock(store, &Passphrase::new(PASS)).await.unwrap();
    assert_eq!(phone_vault.header(), laptop.header());
}

/// After a passphrase change on another device, a device that is unlocked takes the new
/// header when the user enters the new passphrase (no second copy, no lost answers); one
/// that was locked is told to unlock once with the previous passphrase.
async fn a_device_takes_a_passphrase_changed_elsewhere(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut laptop, mut account) = first_device(&net, "jon", 2).await;
    let mut phone = Account::new(net.clone(), "jon", "phone");
    let mut phone_vault = phone
        .join(MemoryStore::new(), &Passphrase::new(PASS))
        .await
        .unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    let locked_copy = MemoryStore::new();
    for (key, bytes) in phone_vault.store().scan_records().await.unwrap() {
        locked_copy.put_raw_record(&key, bytes);
    }
    locked_copy.put_raw_meta(
        vault_core::store::META_HEADER,
        phone_vault.header().encode(),
    );
    let new = Passphrase::new("a brand new passphrase");
    account
        .change_passphrase(
            &mut laptop,
            &Passphrase::new(PASS),
            &new,
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap();
    laptop.insert(&record("after the change")).await.unwrap();
    account.sync(&mut laptop).await.unwrap();

    let header = phone.login_with_passphrase(&new).await.unwrap();
    // A wrong passphrase is still just that.
    let e = phone_vault
        .adopt_header(header.clone(), &Passphrase::new("not the passphrase"))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        VaultError::Crypto(vault_core::CryptoError::WrongPassphrase)
    );
    phone_vault
        .adopt_header(header.clone(), &new)
        .await
        .unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    assert_eq!(phone_vault.list().await.unwrap().records.len(), 3);
    let store = phone_vault.lock();
    assert!(
        Vault::unlock(store, &new).await.is_ok(),
        "kept across restarts"
    );

    // The locked copy cannot check the new header against its key.
    let e = Vault::unlock_adopting(locked_copy, header, &new)
        .await
        .err()
        .unwrap();
    assert_eq!(e, VaultError::ChangedWhileLocked);
}

/// docs/FORMAT.md §1: keys come from the passphrase's NFC form. An account made by a build
/// before that rule, under a passphrase typed decomposed, was keyed by the typed bytes: a
/// new device still joins it with the passphrase typed the same way (the login falls back to
/// the typed form once), and a passphrase change moves it to the rule.
async fn an_account_made_before_the_nfc_rule_still_signs_in(_: &Backend, store: Store) {
    let decomposed = "cre\u{300}me bru\u{302}le\u{301}e forever";
    let composed = "cr\u{e8}me br\u{fb}l\u{e9}e forever";
    let net = InProcess::new(store);
    let old = vault_core::crypto::hazmat::unnormalized_passphrase(decomposed);
    let (mut laptop, auth) =
        Vault::create(MemoryStore::new(), &old, KdfParams::generate().unwrap())
            .await
            .unwrap();
    let mut account = Account::new(net.clone(), "kim", "laptop");
    account.register(&laptop, auth).await.unwrap();
    laptop.insert(&record("before the rule")).await.unwrap();
    account.sync(&mut laptop).await.unwrap();

    let logins = net.logins();
    let mut phone = Account::new(net.clone(), "kim", "phone");
    let mut phone_vault = phone
        .join(MemoryStore::new(), &Passphrase::new(decomposed))
        .await
        .unwrap();
    assert_eq!(
        net.logins(),
        logins + 2,
        "the NFC form, refused; then the typed form"
    );
    phone.sync(&mut phone_vault).await.unwrap();
    assert_eq!(phone_vault.list().await.unwrap().records.len(), 1);

    // After a change (sealed in NFC), either form signs in.
    account
        .change_passphrase(
            &mut laptop,
            &Passphrase::new(decomposed),
            &Passphrase::new(decomposed),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap();
    for typed in [composed, decomposed] {
        let logins = net.logins();
        let header = Account::new(net.clone(), "kim", "tablet")
            .login_with_passphrase(&Passphrase::new(typed))
            .await
            .unwrap();
        assert_eq!(&header, laptop.header());
        assert_eq!(net.logins(), logins + 1, "one login: the NFC form");
    }
}

/// docs/SYNC.md: a rotation is a new version of every entry, so an edit another device made
/// offline before it learned of the rotation meets it as a concurrent edit: the edit is kept
/// as a conflict (readable: it was sealed under the replaced key), never lost silently, and
/// keeping it wins everywhere.
async fn an_offline_edit_meets_a_rotation_as_a_conflict(_: &Backend, store: Store) {
    let net = InProcess::new(store);
    let (mut laptop, mut account) = first_device(&net, "lee", 1).await;
    let mut phone = Account::new(net.clone(), "lee", "phone");
    let mut phone_vault = phone
        .join(MemoryStore::new(), &Passphrase::new(PASS))
        .await
        .unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    let mut edited = phone_vault.list().await.unwrap().records[0].clone();
    edited.answer = vault_core::Answer::ShortText {
        text: "changed offline".into(),
    };
    phone_vault.put(&edited).await.unwrap();

    account
        .rotate_key(
            &mut laptop,
            &Passphrase::new(PASS),
            KdfParams::generate().unwrap(),
        )
        .await
        .unwrap();
    account.sync(&mut laptop).await.unwrap();

    let header = phone
        .login_with_passphrase(&Passphrase::new(PASS))
        .await
        .unwrap();
    phone_vault
        .adopt_header(header, &Passphrase::new(PASS))
        .await
        .unwrap();
    let report = phone.sync(&mut phone_vault).await.unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let (conflicts, failures) = phone_vault.conflicts().await.unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].losing.as_ref(),
        Some(&edited),
        "the offline edit, kept and readable"
    );
    phone_vault
        .resolve_conflict(&conflicts[0].key.clone(), vault_core::sync::Keep::Losing)
        .await
        .unwrap();
    phone.sync(&mut phone_vault).await.unwrap();
    account.sync(&mut laptop).await.unwrap();
    assert_eq!(laptop.get(&edited.id).await.unwrap(), Some(edited));
}
