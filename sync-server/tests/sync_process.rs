//! The whole sync path against real `selfos serve` processes on loopback: devices with real
//! vaults (vault-core's engine over HTTP) write, edit and delete concurrently while a server
//! is killed with SIGKILL mid-push and restarted. Afterwards: every device holds the same
//! records, nothing written is lost, nothing is stored twice, and the server's sequence is
//! gapless. On SQLite (one process) and on PostgreSQL (two processes sharing the database).
#![cfg(unix)]

mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use common::Backend;
use sync_server::http_client::BlockingTransport;
use vault_core::store::block_on;
use vault_core::sync::{sync, Backoff, Client, Session, SyncReport};
use vault_core::{
    Answer, AnswerRecord, CardType, KdfParams, MemoryStore, Namespace, Passphrase, RecordFlags,
    RecordId, Vault,
};

const PASS: &str = "correct horse battery staple";
const ROUNDS: usize = 8;
const WRITES_PER_ROUND: usize = 15;

struct Server {
    child: Option<Child>,
    addr: String,
    env: (&'static str, String),
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(backend: &Backend) -> Server {
        let mut s = Server {
            child: None,
            addr: format!("127.0.0.1:{}", free_port()),
            env: backend.env(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_selfos"))
            .arg("serve")
            .env("SELFOS_ADDR", &self.addr)
            .env_remove("DATABASE_URL")
            .env(self.env.0, &self.env.1)
            // The test hammers one account from one address: lift the limits.
            .env("SELFOS_ACCOUNT_RATE", "100000")
            .env("SELFOS_ADDRESS_RATE", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect(&self.addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "server did not come up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap(); // SIGKILL: no graceful shutdown, transactions cut mid-way
            c.wait().unwrap();
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn record(text: String, at: u64) -> AnswerRecord {
    AnswerRecord {
        id: RecordId::generate().unwrap(),
        prompt_id: "goals.this-week.what".into(),
        prompt_version: 1,
        card_type: CardType::ShortText,
        answer: Answer::ShortText { text },
        namespace: Namespace::new("chatgpt").unwrap(),
        origin: None,
        page_context: None,
        captured_at_ms: at,
        answer_latency_ms: 1_000,
        wait_duration_ms: 5_000,
        flags: RecordFlags::default(),
    }
}

/// One sync round, retried with (test-sized) backoff while the server is down.
fn sync_retrying(
    vault: &mut Vault<MemoryStore>,
    client: &Client<BlockingTransport>,
    session: &Session,
) -> SyncReport {
    let mut backoff = Backoff::new(20, 500);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match block_on(sync(vault, client, session)) {
            Ok(r) => return r,
            Err(e) => {
                let wait = backoff
                    .next_delay_ms(&e, 0.5)
                    .unwrap_or_else(|| panic!("sync failed for good: {e}"));
                assert!(Instant::now() < deadline, "no successful sync in 90 s: {e}");
                std::thread::sleep(Duration::from_millis(wait));
            }
        }
    }
}

/// What a device ends with: its records, and what it expects to be there or gone.
struct Outcome {
    records: Vec<(String, String)>,
    kept: Vec<String>,
    deleted: Vec<String>,
    failures_seen: usize,
}

fn device(
    name: &'static str,
    url: String,
    registered: Option<mpsc::Sender<()>>,
    wait_for_account: Option<mpsc::Receiver<()>>,
    barrier: Arc<Barrier>,
    kills_done: Arc<AtomicBool>,
) -> Outcome {
    let client = Client::new(BlockingTransport::new(&url).unwrap());
    let pass = Passphrase::new(PASS);
    let (mut vault, session) = if let Some(done) = registered {
        let (vault, auth) = block_on(Vault::create(
            MemoryStore::new(),
            &pass,
            KdfParams::generate().unwrap(),
        ))
        .unwrap();
        block_on(client.register("alice", vault.header(), &auth)).unwrap();
        let (session, _) = block_on(client.login("alice", &auth, name)).unwrap();
        done.send(()).unwrap();
        (vault, session)
    } else {
        wait_for_account.unwrap().recv().unwrap();
        let (session, header) =
            block_on(client.login_with_passphrase("alice", &pass, name)).unwrap();
        let (vault, _) = block_on(Vault::join(MemoryStore::new(), header, &pass)).unwrap();
        (vault, session)
    };
    let (mut kept, mut deleted) = (Vec::new(), Vec::new());
    let mut failures_seen = 0;
    let mut seed = name.len() as u64 * 7919;
    // Keep writing and syncing until the server has been killed and restarted enough times.
    let mut round = 0;
    while round < ROUNDS || !kills_done.load(Ordering::SeqCst) {
        round += 1;
        for i in 0..WRITES_PER_ROUND {
            let r = record(
                format!("{name} {round}.{i}"),
                1_763_800_000_000 + (round * 100 + i) as u64,
            );
            block_on(vault.insert(&r)).unwrap();
            kept.push(r.id);
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Now and then edit or delete one of this device's own earlier answers.
            if seed % 5 == 0 && kept.len() > 3 {
                let victim = kept.remove((seed as usize >> 8) % kept.len());
                block_on(vault.delete(&victim)).unwrap();
                deleted.push(victim);
            } else if seed % 5 == 1 {
                let mut edited = r.clone();
                edited.answer = Answer::ShortText {
                    text: format!("{name} {round}.{i} edited"),
                };
                block_on(vault.put(&edited)).unwrap();
            }
        }
        let mut attempt = Backoff::new(20, 500);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            match block_on(sync(&mut vault, &client, &session)) {
                Ok(_) => break,
                Err(e) => {
                    failures_seen += 1;
                    let wait = attempt
                        .next_delay_ms(&e, 0.5)
                        .unwrap_or_else(|| panic!("{name}: {e}"));
                    assert!(Instant::now() < deadline, "{name}: no sync in 90 s: {e}");
                    std::thread::sleep(Duration::from_millis(wait));
                }
            }
        }
    }
    // Quiesce: everyone has pushed everything, then everyone pulls everything.
    barrier.wait();
    sync_retrying(&mut vault, &client, &session);
    barrier.wait();
    sync_retrying(&mut vault, &client, &session);
    let mut records: Vec<(String, String)> = block_on(vault.list())
        .unwrap()
        .records
        .into_iter()
        .map(|r| (r.id.to_string(), format!("{:?}", r.answer)))
        .collect();
    records.sort();
    let ids = |v: Vec<RecordId>| v.into_iter().map(|i| i.to_string()).collect();
    Outcome {
        records,
        kept: ids(kept),
        deleted: ids(deleted),
        failures_seen,
    }
}

fn run(backend: &Backend, processes: usize) {
    let mut servers: Vec<Server> = (0..processes).map(|_| Server::start(backend)).collect();
    let urls: Vec<String> = servers.iter().map(Server::url).collect();
    let barrier = Arc::new(Barrier::new(3));
    let (tx, rx) = mpsc::channel();
    let (tx2, rx2) = mpsc::channel();
    let relay = std::thread::spawn(move || {
        rx.recv().unwrap();
        tx2.send(()).unwrap();
    });
    let (b1, b2, b3) = (barrier.clone(), barrier.clone(), barrier.clone());
    let (u0, u1, u2) = (
        urls[0].clone(),
        urls[urls.len() - 1].clone(),
        urls[0].clone(),
    );
    let (tx_b, rx_b) = mpsc::channel::<()>();
    let (tx_c, rx_c) = mpsc::channel::<()>();
    // A registers; B and C join once the account exists.
    let kills_done = Arc::new(AtomicBool::new(false));
    let (k1, k2, k3) = (kills_done.clone(), kills_done.clone(), kills_done.clone());
    let a = std::thread::spawn(move || device("laptop", u0, Some(tx), None, b1, k1));
    relay.join().unwrap();
    rx2.recv().unwrap();
    tx_b.send(()).unwrap();
    tx_c.send(()).unwrap();
    let b = std::thread::spawn(move || device("phone", u1, None, Some(rx_b), b2, k2));
    let c = std::thread::spawn(move || device("tablet", u2, None, Some(rx_c), b3, k3));

    // Kill the first server with SIGKILL while the devices are pushing, three times, and
    // bring it back on the same address and database.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(250));
        servers[0].kill9();
        std::thread::sleep(Duration::from_millis(150));
        servers[0].spawn();
    }
    kills_done.store(true, Ordering::SeqCst);

    let outcomes: Vec<Outcome> = [a, b, c].into_iter().map(|t| t.join().unwrap()).collect();
    let reference = &outcomes[0].records;
    for o in &outcomes {
        assert_eq!(&o.records, reference, "devices disagree after sync");
    }
    let present: std::collections::BTreeSet<&String> = reference.iter().map(|(id, _)| id).collect();
    for o in &outcomes {
        for id in &o.kept {
            assert!(present.contains(id), "a write was lost: {id}");
        }
        for id in &o.deleted {
            assert!(!present.contains(id), "a delete was lost: {id}");
        }
    }
    assert_eq!(
        present.len(),
        outcomes.iter().map(|o| o.kept.len()).sum::<usize>(),
        "records appeared from nowhere"
    );
    let failures: usize = outcomes.iter().map(|o| o.failures_seen).sum();
    eprintln!(
        "{} records, {failures} failed sync attempts during the kills",
        present.len()
    );

    // The server's log: gapless sequence numbers, no change stored twice.
    let client = Client::new(BlockingTransport::new(&urls[urls.len() - 1]).unwrap());
    let (session, _) =
        block_on(client.login_with_passphrase("alice", &Passphrase::new(PASS), "auditor")).unwrap();
    let mut since = 0;
    let mut seen = std::collections::BTreeSet::new();
    let mut count = 0;
    loop {
        let page = block_on(client.pull(&session, since, 1000)).unwrap();
        assert_eq!(page.malformed, 0);
        for e in &page.entries {
            assert!(
                seen.insert((e.id, e.hlc)),
                "change stored twice: {} {}",
                e.id,
                e.hlc
            );
        }
        count += page.entries.len();
        assert_eq!(
            page.cursor, count as i64,
            "sequence numbers must be gapless"
        );
        since = page.cursor;
        if !page.more {
            break;
        }
    }
    drop(servers);
}

#[test]
fn sqlite_devices_converge_through_sigkills() {
    let backend = Backend::sqlite("sigkill");
    run(&backend, 1);
}

#[test]
fn postgres_two_processes_converge_through_sigkills() {
    let Some(backend) = Backend::postgres("sigkill") else {
        return;
    };
    // Create the schema once, before two processes race to it (they would also be fine:
    // migrations take an advisory lock).
    drop(backend.open());
    run(&backend, 2);
}
