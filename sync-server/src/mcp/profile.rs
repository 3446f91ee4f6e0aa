//! The vault `selfos mcp` serves: opened once at start, kept in memory, refreshed by an
//! incremental pull when a call comes more than [`PULL_EVERY`] after the last pull, and the
//! place where every answer that hands out profile content leaves its delivery record.

use std::time::{Duration, Instant};

use serde::Serialize;
use vault_core::delivery::{DeliveryMethod, DeliveryRecord};
use vault_core::graph::context::{self, ContextBlock, ContextError};
use vault_core::graph::KnowledgeGraph;
use vault_core::proposal::{already_proposed, ProposalRecord};
use vault_core::store::block_on;
use vault_core::sync::{Account, AccountError, Change, SyncError};
use vault_core::{Listing, ListingBuilder, MemoryStore, Vault};

use super::Source;
use crate::cli::{open_remote_as, read_passphrase, CliError};
use crate::http_client::BlockingTransport;

/// How old the last pull may be before a call pulls again: agents call tools in bursts, and a
/// minute-old profile is fresh enough for a conversation while keeping the server quiet.
pub const PULL_EVERY: Duration = Duration::from_secs(60);

/// The device name `selfos mcp` signs in as (shown in the account's device list).
pub const DEVICE: &str = "selfos mcp";

/// At most this many facts in one `search_profile` answer, strongest first: enough for a
/// model to read, bounded so a one-letter query does not dump the whole graph.
pub const MAX_HITS: usize = 50;

/// The least strength a `search_profile` hit has.
pub const MIN_HIT_STRENGTH: f64 = 0.05;

/// The opened vault and what is derived from it.
pub struct Profile {
    vault: Vault<MemoryStore>,
    /// `None` when serving a backup file.
    account: Option<Account<BlockingTransport>>,
    /// The vault's content, opened once and then followed change by change
    /// ([`Listing::apply`]): every proposal is in it, whatever its status, so a statement
    /// already proposed is not stored again.
    listing: Listing,
    graph: KnowledgeGraph,
    /// How old the last pull may be ([`PULL_EVERY`] unless `--pull-every` says otherwise).
    pull_every: Duration,
    /// When the last pull succeeded (monotonic, for `pull_every`) ...
    pulled_at: Instant,
    /// ... and in Unix milliseconds, for "the profile shown is from HH:MM".
    pulled_at_ms: u64,
    /// A delivery was recorded since the last push: pushed once the answer is sent
    /// ([`Profile::push_deliveries`]), so an agent never waits on the sync server for it.
    deliveries_due: bool,
}

/// Whether the profile an answer is built on is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Pulled within [`PULL_EVERY`], or a backup (which never changes).
    Fresh,
    /// The pull failed: the profile is the one pulled at `since_ms`.
    Stale { since_ms: u64, why: String },
}

impl Freshness {
    /// The sentence an agent reads when the profile could not be refreshed.
    pub fn warning(&self) -> Option<String> {
        match self {
            Freshness::Fresh => None,
            Freshness::Stale { since_ms, why } => Some(format!(
                "The SelfOS sync server is unreachable ({why}); the profile shown is from {} UTC and may be out of date. SelfOS retries on the next call.",
                hh_mm(*since_ms)
            )),
        }
    }
}

/// `HH:MM` (UTC) of a Unix time in milliseconds.
pub fn hh_mm(ms: u64) -> String {
    let minutes = (ms / 60_000) % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// One fact found by `search_profile`.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The graph node id (`style.length=brief`).
    pub node: String,
    pub label: String,
    pub dimension: String,
    /// The sentence an agent is told, when the fact is one that is told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence: Option<String>,
    /// The agent a per-agent fact is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// In [0, 1]: decayed evidence × consistency (docs/METRICS.md).
    pub strength: f64,
    /// Answers for or against it.
    pub evidence: usize,
}

impl Profile {
    /// Opens the vault: signs in and pulls everything, or restores the backup into memory.
    /// A wrong passphrase is a [`CliError::Failed`] that says so.
    pub fn open(source: &Source, pull_every: Duration) -> Result<Self, CliError> {
        let (vault, account, listing) = match source {
            Source::Remote(remote) => {
                let (vault, account, listing) = open_following(remote)?;
                (vault, Some(account), listing)
            }
            Source::Backup { file, passphrase } => {
                let pass = read_passphrase(passphrase)?;
                let bytes = std::fs::read(file)
                    .map_err(|e| format!("reading the backup {}: {e}", file.display()))?;
                let (vault, report) =
                    block_on(Vault::restore_backup(MemoryStore::new(), &bytes, &pass))?;
                if !report.failures.is_empty() {
                    eprintln!(
                        "warning: {} entries of the backup did not open (tampered or damaged) and were skipped",
                        report.failures.len()
                    );
                }
                let listing = block_on(vault.list())?;
                (vault, None, listing)
            }
        };
        let now = vault_core::time::now_ms();
        let graph = KnowledgeGraph::build(vault_core::cards::builtin(), &listing.records, now);
        tracing::debug!(nodes = graph.node_count(), "graph built");
        Ok(Profile {
            vault,
            account,
            pull_every,
            graph,
            listing,
            pulled_at: Instant::now(),
            pulled_at_ms: now,
            deliveries_due: false,
        })
    }

    fn rebuild_graph(&mut self) {
        self.graph = KnowledgeGraph::build(
            vault_core::cards::builtin(),
            &self.listing.records,
            vault_core::time::now_ms(),
        );
    }

    /// One sync round (account mode), following what it pulled in the listing and the
    /// graph. A failure leaves both as they were.
    fn sync(&mut self) -> Result<(), AccountError> {
        let Some(account) = self.account.as_mut() else {
            return Ok(());
        };
        let mut changes: Vec<Change> = Vec::new();
        let synced = block_on(account.sync_observing(&mut self.vault, &mut |c| changes.extend(c)));
        // What was applied before a failure is stored: follow it either way.
        if !changes.is_empty() {
            self.listing.apply(changes);
            self.rebuild_graph();
        }
        synced?;
        self.pulled_at = Instant::now();
        self.pulled_at_ms = vault_core::time::now_ms();
        Ok(())
    }

    /// Pulls when the last pull is older than `pull_every`. A failed pull keeps the
    /// profile as it was and says since when; the next call tries again.
    pub fn refresh(&mut self) -> Freshness {
        if self.account.is_none() || self.pulled_at.elapsed() < self.pull_every {
            return Freshness::Fresh;
        }
        match self.sync() {
            Ok(()) => Freshness::Fresh,
            Err(e) => Freshness::Stale {
                since_ms: self.pulled_at_ms,
                why: describe(&e),
            },
        }
    }

    pub fn graph(&self) -> &KnowledgeGraph {
        &self.graph
    }

    /// The context block for `agent`: vault-core's one context writer, as the extension's
    /// in-chat insertion calls it, optionally narrowed to a topic.
    pub fn block(
        &self,
        agent: &str,
        topic: Option<&str>,
        budget: usize,
    ) -> Result<ContextBlock, ContextError> {
        context::block_on_topic(
            &self.graph,
            vault_core::cards::builtin(),
            agent,
            budget,
            topic,
        )
    }

    /// The facts whose label, dimension, id or told sentence contains `query` (ignoring
    /// case), strongest first, at most [`MAX_HITS`], none weaker than [`MIN_HIT_STRENGTH`].
    pub fn search(&self, query: &str) -> Vec<Hit> {
        let lib = vault_core::cards::builtin();
        let q = query.trim().to_lowercase();
        let mut hits: Vec<Hit> = self
            .graph
            .nodes()
            // A value the user's answers speak against (strength ~0) is not a fact about
            // them: leave it out rather than let a model read it as one.
            .filter(|n| {
                !n.is_dimension()
                    && n.evidence_count() > 0
                    && n.metrics.strength >= MIN_HIT_STRENGTH
            })
            .filter_map(|n| {
                let sentence = context::sentence_for(&self.graph, lib, &n.id);
                let matches = n.label.to_lowercase().contains(&q)
                    || n.dimension.to_lowercase().contains(&q)
                    || n.id.to_lowercase().contains(&q)
                    || sentence
                        .as_deref()
                        .is_some_and(|s| s.to_lowercase().contains(&q));
                matches.then(|| Hit {
                    node: n.id.clone(),
                    label: n.label.clone(),
                    dimension: n.dimension.clone(),
                    sentence,
                    agent: n.agent.clone(),
                    strength: n.metrics.strength,
                    evidence: n.evidence_count(),
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.strength
                .total_cmp(&a.strength)
                .then_with(|| a.node.cmp(&b.node))
        });
        hits.truncate(MAX_HITS);
        hits
    }

    /// Records that `delivery` was handed out, so the user's alignment per agent counts MCP
    /// use. It is pushed after the answer goes out ([`Profile::push_deliveries`]).
    pub fn deliver(&mut self, delivery: &DeliveryRecord) -> Result<(), CliError> {
        block_on(self.vault.record_delivery(delivery))?;
        self.deliveries_due = self.account.is_some();
        Ok(())
    }

    /// Pushes the deliveries recorded since the last push (account mode): the worker calls
    /// it after each answer is sent, and once more when the client closes the session.
    /// Best effort: a push that fails leaves them queued for the next round.
    pub fn push_deliveries(&mut self) {
        if std::mem::take(&mut self.deliveries_due) {
            let _ = self.push();
        }
    }

    /// The delivery record of handing `block` to its agent now.
    pub fn delivery_of(block: &ContextBlock) -> Result<DeliveryRecord, CliError> {
        Ok(DeliveryRecord::of_block(
            block,
            DeliveryMethod::Mcp,
            vault_core::time::now_ms(),
            None,
        )?)
    }

    /// One sync round to push what is queued (account mode; a backup has nowhere to push).
    /// A failure is returned and the changes stay queued for the next round.
    pub fn push(&mut self) -> Result<(), String> {
        self.sync().map_err(|e| describe(&e))
    }

    /// Stores an agent's proposal, sealed, queued for the next push; unless the same
    /// statement from the same agent was proposed before (pending, accepted or rejected):
    /// then nothing is stored and that earlier proposal is returned.
    pub fn propose(
        &mut self,
        proposal: &ProposalRecord,
    ) -> Result<Option<ProposalRecord>, CliError> {
        if let Some(earlier) = already_proposed(
            &self.listing.proposals,
            proposal.agent.as_str(),
            &proposal.statement,
        ) {
            return Ok(Some(earlier.clone()));
        }
        block_on(self.vault.record_proposal(proposal))?;
        self.listing.proposals.push(proposal.clone());
        Ok(None)
    }

    /// When the profile served was last pulled (Unix ms; the opening time for a backup).
    pub fn pulled_at_ms(&self) -> u64 {
        self.pulled_at_ms
    }

    pub fn is_remote(&self) -> bool {
        self.account.is_some()
    }
}

/// Signs in and pulls everything, building the listing from what the pull opened rather than
/// decrypting it all a second time (issue 19's start-up figure). Each page's changes are
/// followed on a thread of their own, while the pull fetches the next page, and the listing
/// is sorted once at the end.
fn open_following(
    remote: &crate::cli::RemoteArgs,
) -> Result<(Vault<MemoryStore>, Account<BlockingTransport>, Listing), CliError> {
    let (pages, inbox) = std::sync::mpsc::channel::<Vec<Change>>();
    let follower = std::thread::Builder::new()
        .name("selfos-mcp-listing".into())
        .spawn(move || {
            let mut builder = ListingBuilder::default();
            for page in inbox {
                builder.apply(page);
            }
            builder.finish()
        })
        .map_err(|e| format!("cannot start the listing thread: {e}"))?;
    tracing::debug!("opening");
    let opened = open_remote_as(remote, DEVICE, &mut |page| {
        tracing::debug!(changes = page.len(), "page applied");
        // The follower only ends once `pages` is dropped, so this cannot fail.
        let _ = pages.send(page);
    });
    drop(pages);
    tracing::debug!("pulled");
    let listing = follower
        .join()
        .map_err(|_| CliError::Failed("the listing thread failed".into()))?;
    tracing::debug!("listed");
    let (vault, account) = opened?;
    Ok((vault, account, listing))
}

/// A sync failure in the words an agent (and the user behind it) can act on.
fn describe(e: &AccountError) -> String {
    match e {
        AccountError::Sync(SyncError::Offline(why)) => format!("cannot connect: {why}"),
        other => other.to_string(),
    }
}
