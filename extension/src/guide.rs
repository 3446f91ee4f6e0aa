//! What the popup says comes next while a new user sets SelfOS up: one step at a time, from
//! the first card to the dashboard, so nobody has to guess (issue 21's guided first run).

use crate::protocol::{Status, VaultState};

/// The step the popup points to, if the user still has one ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The vault is ready and holds nothing: a card comes while an AI answers.
    FirstCard,
    /// Answers are here, but only here: a sync account brings the dashboard.
    SyncAccount,
}

impl NextStep {
    /// The sentence the popup shows.
    pub fn text(self) -> &'static str {
        match self {
            NextStep::FirstCard => "Next: ask ChatGPT, Claude or Gemini something. While it answers, a card asks you one quick question: a click or a digit key answers it.",
            NextStep::SyncAccount => "Next: see what SelfOS has learned. Set up sync (your answers stay encrypted) and open your dashboard.",
        }
    }
}

/// The next step for this status: none while the vault is locked or absent (the popup's form
/// says what to do then), and none once answers sync to an account.
pub fn next_step(s: &Status) -> Option<NextStep> {
    if s.vault != VaultState::Unlocked {
        return None;
    }
    if s.records == 0 {
        return Some(NextStep::FirstCard);
    }
    s.account.is_none().then_some(NextStep::SyncAccount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SyncState;

    fn status(vault: VaultState, records: u32, account: Option<&str>) -> Status {
        Status {
            vault,
            answered_today: records,
            daily_cap: 20,
            records,
            account: account.map(str::to_owned),
            sync: SyncState::default(),
            sites: Vec::new(),
            paused_until_ms: None,
            proposals_pending: 0,
        }
    }

    #[test]
    fn a_new_user_is_led_from_the_first_card_to_the_dashboard() {
        assert_eq!(next_step(&status(VaultState::Absent, 0, None)), None);
        assert_eq!(next_step(&status(VaultState::Locked, 3, None)), None);
        assert_eq!(
            next_step(&status(VaultState::Unlocked, 0, None)),
            Some(NextStep::FirstCard)
        );
        assert_eq!(
            next_step(&status(VaultState::Unlocked, 0, Some("ada"))),
            Some(NextStep::FirstCard)
        );
        assert_eq!(
            next_step(&status(VaultState::Unlocked, 2, None)),
            Some(NextStep::SyncAccount)
        );
        assert_eq!(
            next_step(&status(VaultState::Unlocked, 2, Some("ada"))),
            None
        );
    }
}
