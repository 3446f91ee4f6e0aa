//! Deciding a proposal (docs/FORMAT.md §4.4): accepting writes a free-text answer that enters
//! the graph and the context block, tagged with the proposing agent; the decision is version
//! 2 of the proposal and wins over version 1 when devices sync; rejecting keeps it rejected.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::device;
use vault_core::cards::builtin;
use vault_core::graph::context;
use vault_core::graph::KnowledgeGraph;
use vault_core::proposal::{
    already_proposed, pending_count, Decision, ProposalRecord, ProposalStatus, PROPOSAL_CARD,
};
use vault_core::store::block_on as run;
use vault_core::{Answer, MemoryStore, Vault, VaultError};

const NOW: u64 = 1_763_900_000_000;

fn propose(vault: &mut Vault<MemoryStore>, agent: &str, statement: &str) -> ProposalRecord {
    let p = ProposalRecord::new(
        agent,
        statement,
        Some("work".into()),
        Some("Said so while debugging a driver.".into()),
        NOW,
    )
    .unwrap();
    run(vault.record_proposal(&p)).unwrap();
    p
}

/// Moves every pending change of `from` to `to`, as a push and a pull would.
fn sync(from: &mut Vault<MemoryStore>, to: &mut Vault<MemoryStore>) {
    let (entries, changes) = run(from.outgoing()).unwrap();
    run(to.apply_remote(entries)).unwrap();
    run(from.ack_changes(&changes)).unwrap();
}

fn proposals(vault: &Vault<MemoryStore>) -> Vec<ProposalRecord> {
    run(vault.list()).unwrap().proposals
}

#[test]
fn accepting_writes_an_answer_that_reaches_the_graph_and_the_context_block() {
    let mut vault = device();
    let p = propose(&mut vault, "claude", "I write Rust for embedded devices.");
    assert_eq!(pending_count(&proposals(&vault)), 1);

    let (decided, answer) =
        run(vault.decide_proposal(&p.id, Decision::Accept { edited: None })).expect("accept");
    assert_eq!(decided.status, ProposalStatus::Accepted);
    let answer = answer.expect("an acceptance writes an answer");
    assert_eq!(answer.id, p.answer_id());
    assert_eq!(answer.namespace.as_str(), "claude", "tagged with its agent");
    assert_eq!(answer.prompt_id, PROPOSAL_CARD);

    let listing = run(vault.list()).unwrap();
    assert!(listing.failures.is_empty(), "{:?}", listing.failures);
    assert_eq!(listing.records, vec![answer.clone()]);
    assert_eq!(listing.proposals, vec![decided]);
    assert_eq!(pending_count(&listing.proposals), 0);
    // Version 2 of the proposal, version 1 of the answer.
    let (entries, _) = run(vault.stored_entries()).unwrap();
    let version = |id| entries.iter().find(|e| e.id == id).unwrap().version;
    assert_eq!(version(p.id), 2);
    assert_eq!(version(answer.id), 1);

    let lib = builtin();
    let graph = KnowledgeGraph::build(lib, &listing.records, NOW + 1_000);
    assert!(
        graph
            .nodes()
            .any(|n| n.label == "I write Rust for embedded devices."),
        "the statement is a node of the graph"
    );
    for agent in ["claude", "chatgpt"] {
        let block = context::block(&graph, lib, agent, 2_000).unwrap();
        assert!(
            block.text.contains("I write Rust for embedded devices."),
            "{agent}: {}",
            block.text
        );
    }
}

#[test]
fn accepting_an_edit_files_the_users_words() {
    let mut vault = device();
    let p = propose(&mut vault, "cursor", "I like  Python.");
    let edited = Decision::Accept {
        edited: Some("  I like Python for scripts, Rust for the rest. ".into()),
    };
    let (decided, answer) = run(vault.decide_proposal(&p.id, edited)).unwrap();
    assert_eq!(
        decided.statement, "I like  Python.",
        "the agent's words stay as proposed"
    );
    assert_eq!(
        answer.unwrap().answer,
        Answer::ShortText {
            text: "I like Python for scripts, Rust for the rest.".into()
        }
    );
    let empty = Decision::Accept {
        edited: Some("   ".into()),
    };
    let other = propose(&mut vault, "cursor", "I use vim.");
    let err = run(vault.decide_proposal(&other.id, empty)).unwrap_err();
    assert!(err.to_string().contains("before accepting"), "{err}");
    assert_eq!(
        run(vault.proposal(&other.id)).unwrap().unwrap().status,
        ProposalStatus::Pending,
        "a refused edit writes nothing"
    );
}

#[test]
fn rejecting_keeps_it_out_of_the_profile_and_a_decision_is_made_once() {
    let mut vault = device();
    let p = propose(&mut vault, "claude", "I am a night owl.");
    let (decided, answer) = run(vault.decide_proposal(&p.id, Decision::Reject)).unwrap();
    assert_eq!(decided.status, ProposalStatus::Rejected);
    assert!(answer.is_none());
    let listing = run(vault.list()).unwrap();
    assert!(listing.records.is_empty());
    assert_eq!(listing.proposals[0].status, ProposalStatus::Rejected);

    // The same statement from the same agent is found (whitespace and case aside); from
    // another agent it is a new proposal.
    let found = already_proposed(&listing.proposals, "claude", "  i am a NIGHT owl. ").unwrap();
    assert_eq!(found.status, ProposalStatus::Rejected);
    assert!(already_proposed(&listing.proposals, "cursor", "I am a night owl.").is_none());

    let again = run(vault.decide_proposal(&p.id, Decision::Accept { edited: None })).unwrap_err();
    assert!(
        matches!(again, VaultError::Invalid { .. })
            && again.to_string().contains("already rejected"),
        "{again}"
    );
    let missing = vault_core::RecordId::generate().unwrap();
    assert!(matches!(
        run(vault.decide_proposal(&missing, Decision::Reject)),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn the_decision_syncs_and_wins_over_the_pending_version() {
    let mut mcp = device();
    let mut web = device();
    let p = propose(&mut mcp, "claude", "I review code on Fridays.");
    sync(&mut mcp, &mut web);
    assert_eq!(proposals(&web)[0].status, ProposalStatus::Pending);

    run(web.decide_proposal(&p.id, Decision::Accept { edited: None })).unwrap();
    sync(&mut web, &mut mcp);
    let listing = run(mcp.list()).unwrap();
    assert_eq!(listing.proposals[0].status, ProposalStatus::Accepted);
    assert_eq!(listing.records.len(), 1, "the answer came along");

    // A replay of version 1 (a stale device, or a hostile server) does not undo the decision.
    let mut stale = device();
    propose_copy(&mut stale, &p);
    let (old, _) = run(stale.outgoing()).unwrap();
    run(mcp.apply_remote(old)).unwrap();
    assert_eq!(proposals(&mcp)[0].status, ProposalStatus::Accepted);

    // Two devices accepting the same proposal write one answer, not two.
    let mut a = device();
    let mut b = device();
    let q = propose(&mut a, "claude", "I prefer tabs.");
    sync(&mut a, &mut b);
    run(a.decide_proposal(&q.id, Decision::Accept { edited: None })).unwrap();
    run(b.decide_proposal(&q.id, Decision::Accept { edited: None })).unwrap();
    sync(&mut a, &mut b);
    sync(&mut b, &mut a);
    assert_eq!(run(a.list()).unwrap().records.len(), 1);
    assert_eq!(run(b.list()).unwrap().records.len(), 1);
}

/// Writes `p` (its id and content) as version 1 on another device.
fn propose_copy(vault: &mut Vault<MemoryStore>, p: &ProposalRecord) {
    run(vault.record_proposal(p)).unwrap();
}
