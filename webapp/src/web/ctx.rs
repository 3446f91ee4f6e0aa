//! State the views share: [`Ctx`], copyable handles to the profile, the current view, sync
//! status and the status line, provided by the root ([`super::app::App`]) and read by every
//! view with [`ctx`]. Views depend on this module, not on the root.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser;
use super::session;
use crate::profile::Profile;
use crate::routes::View;
use crate::AppError;

/// Sync as the header shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncState {
    pub busy: bool,
    pub last_ok_ms: Option<u64>,
    pub error: Option<String>,
    /// The last round failed because the server no longer takes this browser's secret
    /// (passphrase changed or key rotated elsewhere): Settings asks for the passphrase.
    pub sign_in_again: bool,
    pub pending: usize,
    /// A round was asked for while one ran (a write just after another): run one more, so
    /// the later write is not left waiting for the next timer.
    pub again: bool,
}

/// Shared, copyable handles to the app's state.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub profile: RwSignal<Option<Arc<Profile>>>,
    pub view: RwSignal<View>,
    pub sync: RwSignal<SyncState>,
    pub username: RwSignal<String>,
    /// A node the graph view should select (set from the overview's lists).
    pub focus: RwSignal<Option<String>>,
    /// A search the Data view opens with (set by the overview's "Change" on a fact).
    pub search: RwSignal<String>,
    /// A short message for the status line.
    pub note: RwSignal<Option<String>>,
    /// What AI agents proposed to add to the profile (`selfos mcp`), every status.
    pub proposals: RwSignal<Vec<vault_core::proposal::ProposalRecord>>,
}

impl Ctx {
    pub fn go(&self, view: View) {
        if self.view.get_untracked() != view {
            browser::push_path(&view.path());
            self.note.set(None);
            self.view.set(view);
        }
    }

    /// Installs a new profile built from `records` (keeping the export snapshots).
    pub fn set_records(&self, records: Vec<vault_core::AnswerRecord>) {
        let snapshots = self
            .profile
            .with_untracked(|p| p.as_ref().map(|p| p.snapshots.clone()))
            .unwrap_or_default();
        self.profile.set(Some(Arc::new(Profile::build(
            records,
            browser::now_ms(),
            snapshots,
        ))));
    }

    /// Installs a new profile built from `records` and what each agent was given.
    pub fn set_profile(
        &self,
        records: Vec<vault_core::AnswerRecord>,
        given: Vec<vault_core::graph::InstructionSnapshot>,
    ) {
        self.profile.set(Some(Arc::new(Profile::build(
            records,
            browser::now_ms(),
            given,
        ))));
    }

    /// One sync round in the background; the header shows how it went.
    pub fn sync_soon(&self) {
        let ctx = *self;
        if ctx.sync.get_untracked().busy {
            ctx.sync.update(|s| s.again = true);
            return;
        }
        ctx.sync.update(|s| s.busy = true);
        spawn_local(async move {
            let outcome = session::sync_now().await;
            let pending = session::pending().await.unwrap_or(0);
            match outcome {
                Ok(done) => {
                    let again = ctx.sync.with_untracked(|s| s.again);
                    if done.report.conflicts > 0 {
                        ctx.note.set(Some(format!(
                            "{}: two devices changed the same answer. Choose a side in Data.",
                            crate::text::counted(
                                done.report.conflicts,
                                "sync conflict",
                                "sync conflicts"
                            )
                        )));
                    }
                    if let Some((records, given)) = done.records {
                        ctx.set_profile(records, given);
                    }
                    if let Some(proposals) = done.proposals {
                        ctx.proposals.set(proposals);
                    }
                    ctx.sync.set(SyncState {
                        busy: false,
                        last_ok_ms: Some(browser::now_ms()),
                        error: None,
                        sign_in_again: false,
                        pending: done.pending,
                        again: false,
                    });
                    if again {
                        ctx.sync_soon();
                        return;
                    }
                }
                Err(e) => ctx.sync.update(|s| {
                    s.busy = false;
                    s.again = false;
                    s.error = Some(e.to_string());
                    s.sign_in_again = matches!(e, AppError::CredentialsChanged);
                    s.pending = pending;
                }),
            }
            browser::mark(
                "sync",
                if ctx.sync.get_untracked().error.is_some() {
                    "error"
                } else {
                    "ok"
                },
            );
        });
    }

    pub fn fail(&self, e: &AppError) {
        self.note.set(Some(e.to_string()));
    }
}

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}
