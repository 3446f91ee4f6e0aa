//! Site health: whether each site's adapter still reads the site as it is today.
//!
//! Sites change their markup without notice. When a site's stop control stops matching, the
//! card still comes from the growth fallback, only late, and closes only at the idle timeout;
//! when its answer selectors stop matching, only the generic guesses find the answers. The
//! user would never learn why cards got worse. So every finished generation leaves a sample
//! here (how the wait was read, whether the site's own answer selectors found the answer),
//! kept in the extension's local storage only: nothing about it leaves the device.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The samples kept per site, newest last.
pub const KEPT: usize = 12;
/// This many generations in a row read the same wrong way make a verdict: one could be a
/// fluke (a slow render, a site hiccup).
pub const IN_A_ROW: usize = 2;

/// One finished generation on a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix milliseconds.
    pub at_ms: u64,
    /// The site's stop control (or busy marker) showed during the wait.
    pub control: bool,
    /// The site's own answer selectors found the answer (not only a generic guess).
    pub own_answers: bool,
}

/// What the samples say about a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No generation seen yet.
    Unknown,
    /// Read by its control, answers found by its own selectors.
    Good,
    /// The control never fired lately: cards come from text growth, late.
    GrowthOnly,
    /// The site's own answer selectors found nothing lately: only a guess finds the answers.
    AnswersMissed,
}

/// One site's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteHealth {
    /// The latest samples, newest last, at most [`KEPT`].
    pub recent: Vec<Sample>,
}

impl SiteHealth {
    pub fn record(&mut self, sample: Sample) {
        self.recent.push(sample);
        if self.recent.len() > KEPT {
            self.recent.remove(0);
        }
    }

    /// The verdict from the latest [`IN_A_ROW`] samples: a broken answer selector outweighs a
    /// missing control (without answers the growth fallback itself is a guess).
    pub fn verdict(&self) -> Verdict {
        let Some(latest) = self
            .recent
            .len()
            .checked_sub(IN_A_ROW)
            .map(|from| &self.recent[from..])
        else {
            return if self.recent.is_empty() {
                Verdict::Unknown
            } else {
                Verdict::Good
            };
        };
        if latest.iter().all(|s| !s.own_answers) {
            Verdict::AnswersMissed
        } else if latest.iter().all(|s| !s.control) {
            Verdict::GrowthOnly
        } else {
            Verdict::Good
        }
    }

    /// How many of the kept samples were read by the site's control.
    pub fn by_control(&self) -> usize {
        self.recent.iter().filter(|s| s.control).count()
    }
}

/// Every site's record, by site id: what the extension keeps in local storage.
pub type HealthBook = BTreeMap<String, SiteHealth>;

/// Whether the answer was found by the site's own selectors: it matched answer selector `ai`
/// of a sensor list whose first `own` entries are the site's own (the rest generic guesses).
pub fn own_answers(ai: Option<u32>, own: usize) -> bool {
    ai.is_some_and(|i| (i as usize) < own)
}

/// What the user reads about a site (`name`), or nothing when it reads well.
pub fn message(verdict: Verdict, name: &str) -> Option<String> {
    match verdict {
        Verdict::Unknown | Verdict::Good => None,
        Verdict::GrowthOnly => Some(format!(
            "SelfOS reads {name} by text growth only: cards may come late and close a few seconds after the answer ends."
        )),
        Verdict::AnswersMissed => Some(format!(
            "SelfOS no longer finds {name}'s answers with its own selectors and reads them by a guess: cards may come late or not at all."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(control: bool, own_answers: bool) -> Sample {
        Sample {
            at_ms: 0,
            control,
            own_answers,
        }
    }

    #[test]
    fn verdicts_need_two_in_a_row() {
        let mut h = SiteHealth::default();
        assert_eq!(h.verdict(), Verdict::Unknown);
        h.record(s(false, true));
        assert_eq!(
            h.verdict(),
            Verdict::Good,
            "one growth-only read is no verdict"
        );
        h.record(s(false, true));
        assert_eq!(h.verdict(), Verdict::GrowthOnly);
        h.record(s(true, true));
        assert_eq!(h.verdict(), Verdict::Good, "the control is back");
        h.record(s(true, false));
        h.record(s(false, false));
        assert_eq!(h.verdict(), Verdict::AnswersMissed);
        assert!(message(Verdict::GrowthOnly, "Gemini")
            .unwrap()
            .starts_with("SelfOS reads Gemini by text growth only"));
        assert_eq!(message(Verdict::Good, "Gemini"), None);
    }

    #[test]
    fn only_the_latest_samples_are_kept() {
        let mut h = SiteHealth::default();
        for i in 0..30 {
            h.record(Sample {
                at_ms: i,
                control: true,
                own_answers: true,
            });
        }
        assert_eq!(h.recent.len(), KEPT);
        assert_eq!(h.recent.last().unwrap().at_ms, 29);
        assert_eq!(h.by_control(), KEPT);
    }

    #[test]
    fn a_generic_answer_match_is_not_the_sites_own() {
        assert!(own_answers(Some(1), 2));
        assert!(!own_answers(Some(2), 2));
        assert!(!own_answers(None, 2));
    }
}
