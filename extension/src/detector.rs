//! The wait-state machine: from what the host-page sensor sees to "the AI started / finished /
//! failed generating".
//!
//! The sensor (content script) only reports raw observations; every decision is made here, in
//! the extension's own frame, so it is tested natively and the host page never runs it.
//!
//! Two ways to see a generation:
//! - **Control** (preferred): the site's stop control or busy marker is present. It starts a
//!   wait at once (the card latency budget is 100 ms), and a wait ends when the control has
//!   been gone for a short debounce, so a re-render that flickers it does not end the wait.
//! - **Growth** (generic fallback, for sites without a working adapter): the last answer's
//!   text keeps growing for a few hundred ms; the wait ends after an idle timeout. Growth is
//!   ignored for a few seconds after load and after SPA navigation, when pages render history.
//!
//! A wait fails when a new error banner shows, a retry control appears before any answer
//! text did, or the stop control vanishes while no new answer appeared. Error banners and
//! retry controls are *counted*, not just seen: an old banner left in the conversation must
//! not hide a new one, and the "regenerate" control many sites put under every finished
//! answer is not a failure when the answer arrived.

use serde::{Deserialize, Serialize};

/// One reading of the host page by the sensor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Milliseconds on the page's monotonic clock (`performance.now()`).
    pub t: f64,
    /// A visible, enabled stop control matched.
    pub stop: bool,
    /// A busy/streaming marker matched.
    pub busy: bool,
    /// Number of answer elements.
    pub answers: u32,
    /// Text length of the last answer.
    pub len: u32,
    /// Visible error banners.
    pub error: u32,
    /// Visible retry/regenerate controls.
    pub retry: u32,
    /// `location.pathname`: a change is an SPA navigation.
    pub path: String,
    /// The composer is there and holds nothing (a new chat, with no answers, starts so).
    #[serde(default)]
    pub empty: bool,
    /// Which answer selector matched (its index in the list the sensor was given), if any:
    /// past the site's own selectors means only a generic guess still finds the answers.
    #[serde(default)]
    pub ai: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Control,
    Growth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// An error banner appeared.
    Error,
    /// A retry/regenerate control appeared.
    Retry,
    /// The stop control went away and no answer appeared.
    NoAnswer,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        signal: Signal,
    },
    /// `signal`: how the wait was read in the end (control if the site's control showed at
    /// any point of it), for the site's health record.
    Finished {
        generation_ms: f64,
        signal: Signal,
    },
    Failed {
        reason: Failure,
    },
}

/// Timings, tunable per test; the defaults are the product's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// No wait starts this soon after the page loaded (initial render can flash controls).
    pub settle_after_load_ms: f64,
    /// Growth is ignored this long after load or an SPA navigation (history rendering).
    pub settle_growth_ms: f64,
    /// The stop control must stay gone this long before the wait ends.
    pub stop_gone_ms: f64,
    /// Text must keep growing this long before a growth wait starts.
    pub growth_start_ms: f64,
    /// A growth wait ends after this long without growth.
    pub idle_timeout_ms: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            settle_after_load_ms: 800.0,
            settle_growth_ms: 3_000.0,
            stop_gone_ms: 400.0,
            growth_start_ms: 300.0,
            idle_timeout_ms: 2_500.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle {
        /// When the current run of growth began.
        growing_since: Option<f64>,
        last_growth: f64,
    },
    Waiting {
        signal: Signal,
        started: f64,
        answers: u32,
        len: u32,
        last_growth: f64,
        control_gone_since: Option<f64>,
    },
}

/// One tab's detector.
#[derive(Debug, Clone)]
pub struct Detector {
    tuning: Tuning,
    state: State,
    loaded_at: f64,
    navigated_at: f64,
    /// Once a control was seen on this page, growth alone never starts a wait.
    control_seen: bool,
    last: Observation,
}

impl Detector {
    /// A detector for a page that loaded at `first.t`.
    pub fn new(tuning: Tuning, first: Observation) -> Self {
        Detector {
            tuning,
            state: State::Idle {
                growing_since: None,
                last_growth: first.t,
            },
            loaded_at: first.t,
            navigated_at: first.t,
            control_seen: first.stop || first.busy,
            last: first,
        }
    }

    pub fn is_waiting(&self) -> bool {
        matches!(self.state, State::Waiting { .. })
    }

    /// Feeds one observation; returns what it means, if anything.
    pub fn observe(&mut self, o: Observation) -> Option<Event> {
        let t = o.t;
        let generating = o.stop || o.busy;
        let grew = o.answers != self.last.answers || o.len > self.last.len;
        // A new chat gets its own address as its first answer starts (ChatGPT: `/` becomes
        // `/c/<id>`, DeepSeek: `/a/chat/s/<id>`). That is the same conversation, not a
        // navigation: nothing was re-rendered, the one answer being written goes on. Taking it
        // for one would restart (or end) a growth wait halfway through a short answer.
        let addressed = self.last.answers <= 1
            && (self.last.answers..=self.last.answers + 1).contains(&o.answers);
        let navigated = o.path != self.last.path && !addressed;
        let retry_appeared = o.retry > self.last.retry;
        let error_appeared = o.error > self.last.error;
        if navigated {
            self.navigated_at = t;
        }
        self.control_seen |= generating;
        let tuning = self.tuning;
        let settled = t - self.loaded_at >= tuning.settle_after_load_ms;
        let growth_settled = t - self.navigated_at.max(self.loaded_at) >= tuning.settle_growth_ms;
        let event = match &mut self.state {
            State::Idle {
                growing_since,
                last_growth,
            } => {
                if generating && settled {
                    self.state = waiting(Signal::Control, &self.last, t);
                    Some(Event::Started {
                        signal: Signal::Control,
                    })
                } else if grew && growth_settled && !self.control_seen && !navigated {
                    let since = *growing_since.get_or_insert(t);
                    *last_growth = t;
                    if t - since >= tuning.growth_start_ms {
                        self.state = waiting(Signal::Growth, &self.last, t);
                        Some(Event::Started {
                            signal: Signal::Growth,
                        })
                    } else {
                        None
                    }
                } else {
                    if t - *last_growth >= tuning.idle_timeout_ms || navigated {
                        *growing_since = None;
                    }
                    None
                }
            }
            State::Waiting {
                signal,
                answers,
                len,
                last_growth,
                control_gone_since,
                ..
            } => {
                if grew {
                    *last_growth = t;
                }
                let answered = text_arrived(&o, *answers, *len);
                if error_appeared {
                    Some(self.end(Event::Failed {
                        reason: Failure::Error,
                    }))
                } else if retry_appeared && !answered {
                    Some(self.end(Event::Failed {
                        reason: Failure::Retry,
                    }))
                } else if generating {
                    *signal = Signal::Control;
                    *control_gone_since = None;
                    None
                } else if *signal == Signal::Growth && navigated {
                    Some(self.finish(t))
                } else {
                    if *signal == Signal::Control {
                        control_gone_since.get_or_insert(t);
                    }
                    None
                }
            }
        };
        self.last = o;
        event.or_else(|| self.tick(t))
    }

    /// Advances the clock without a new observation (the frame calls this on a timer while a
    /// wait is open): ends waits whose control stayed gone or whose text stopped growing.
    pub fn tick(&mut self, t: f64) -> Option<Event> {
        let State::Waiting {
            signal,
            answers,
            len,
            last_growth,
            control_gone_since,
            ..
        } = &self.state
        else {
            return None;
        };
        match signal {
            Signal::Control => {
                let gone = (*control_gone_since)?;
                if t - gone < self.tuning.stop_gone_ms {
                    return None;
                }
                let answered = text_arrived(&self.last, *answers, *len);
                Some(if answered {
                    self.finish(t)
                } else {
                    self.end(Event::Failed {
                        reason: Failure::NoAnswer,
                    })
                })
            }
            Signal::Growth => {
                (t - *last_growth >= self.tuning.idle_timeout_ms).then(|| self.finish(t))
            }
        }
    }

    fn finish(&mut self, t: f64) -> Event {
        let (started, signal) = match self.state {
            State::Waiting {
                started, signal, ..
            } => (started, signal),
            State::Idle { .. } => (t, Signal::Control),
        };
        self.end(Event::Finished {
            generation_ms: (t - started).max(0.0),
            signal,
        })
    }

    fn end(&mut self, e: Event) -> Event {
        self.state = State::Idle {
            growing_since: None,
            last_growth: self.last.t,
        };
        e
    }
}

/// Whether answer *text* arrived since the wait began (`answers`, `len`: the count and the
/// last answer's length then). A new answer element alone is not an answer: ChatGPT and Claude
/// insert the assistant's container empty as generation starts, and on a failure it stays
/// empty (or holds only the error), so counting elements would take every failure for a
/// normal finish.
fn text_arrived(o: &Observation, answers: u32, len: u32) -> bool {
    o.len > 0 && (o.answers != answers || o.len != len)
}

fn waiting(signal: Signal, before: &Observation, t: f64) -> State {
    State::Waiting {
        signal,
        started: t,
        answers: before.answers,
        len: before.len,
        last_growth: t,
        control_gone_since: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Detector {
        Detector::new(Tuning::default(), obs(0.0))
    }

    fn obs(t: f64) -> Observation {
        Observation {
            t,
            path: "/".into(),
            ..Default::default()
        }
    }

    #[test]
    fn stop_control_starts_at_once_and_finishes_after_debounce() {
        let mut d = page();
        let start = d.observe(Observation {
            stop: true,
            ..obs(2_000.0)
        });
        assert_eq!(
            start,
            Some(Event::Started {
                signal: Signal::Control
            })
        );
        assert_eq!(
            d.observe(Observation {
                stop: true,
                answers: 1,
                len: 40,
                ..obs(3_000.0)
            }),
            None
        );
        // The control flickers away for less than the debounce: still waiting.
        assert_eq!(
            d.observe(Observation {
                answers: 1,
                len: 80,
                ..obs(3_100.0)
            }),
            None
        );
        assert_eq!(d.tick(3_300.0), None);
        assert!(d.is_waiting());
        assert_eq!(
            d.observe(Observation {
                stop: true,
                answers: 1,
                len: 90,
                ..obs(3_400.0)
            }),
            None
        );
        assert_eq!(
            d.observe(Observation {
                answers: 1,
                len: 120,
                ..obs(5_000.0)
            }),
            None
        );
        assert_eq!(
            d.tick(5_400.0),
            Some(Event::Finished {
                generation_ms: 3_400.0,
                signal: Signal::Control,
            })
        );
        assert!(!d.is_waiting());
    }

    #[test]
    fn nothing_starts_while_the_page_settles() {
        let mut d = page();
        assert_eq!(
            d.observe(Observation {
                stop: true,
                ..obs(100.0)
            }),
            None
        );
    }

    #[test]
    fn one_start_per_generation() {
        let mut d = page();
        let mut starts = 0;
        for i in 0..50 {
            let e = d.observe(Observation {
                stop: true,
                answers: 1,
                len: i * 10,
                ..obs(1_000.0 + f64::from(i) * 50.0)
            });
            starts += usize::from(matches!(e, Some(Event::Started { .. })));
        }
        assert_eq!(starts, 1);
    }

    #[test]
    fn failures_are_told_apart() {
        for (last, reason) in [
            (
                Observation {
                    error: 1,
                    ..obs(2_000.0)
                },
                Some(Failure::Error),
            ),
            (
                Observation {
                    retry: 1,
                    ..obs(2_000.0)
                },
                Some(Failure::Retry),
            ),
            (obs(2_000.0), None),
        ] {
            let mut d = page();
            d.observe(Observation {
                stop: true,
                ..obs(1_000.0)
            });
            let e = d.observe(last);
            let e = e.or_else(|| d.tick(3_000.0));
            assert_eq!(
                e,
                Some(Event::Failed {
                    reason: reason.unwrap_or(Failure::NoAnswer)
                })
            );
        }
    }

    /// ChatGPT and Claude insert the assistant's container empty when generation starts; on a
    /// failure it stays empty. An empty container is no answer: a retry control, or the stop
    /// control vanishing, is still a failure; text in it is an answer.
    #[test]
    fn an_empty_answer_container_is_no_answer() {
        let empty = |t, stop, retry| Observation {
            stop,
            retry,
            answers: 1,
            len: 0,
            ..obs(t)
        };
        // Retry control after an empty container.
        let mut d = page();
        assert!(d.observe(empty(1_000.0, true, 0)).is_some());
        assert_eq!(
            d.observe(empty(1_500.0, false, 1)),
            Some(Event::Failed {
                reason: Failure::Retry
            })
        );
        // The stop control vanishing with the container still empty.
        let mut d = page();
        d.observe(Observation {
            stop: true,
            ..obs(1_000.0)
        });
        assert_eq!(d.observe(empty(1_200.0, true, 0)), None);
        let e = d.observe(empty(1_400.0, false, 0));
        assert_eq!(
            e.or_else(|| d.tick(3_000.0)),
            Some(Event::Failed {
                reason: Failure::NoAnswer
            })
        );
        // Text in the container: a normal finish.
        let mut d = page();
        d.observe(empty(1_000.0, true, 0));
        d.observe(Observation {
            stop: true,
            answers: 1,
            len: 40,
            ..obs(1_300.0)
        });
        let e = d.observe(Observation {
            answers: 1,
            len: 40,
            ..obs(1_400.0)
        });
        assert!(matches!(
            e.or_else(|| d.tick(3_000.0)),
            Some(Event::Finished { .. })
        ));
    }

    #[test]
    fn an_old_banner_does_not_hide_a_new_one() {
        let mut d = Detector::new(
            Tuning::default(),
            Observation {
                error: 1,
                retry: 3,
                ..obs(0.0)
            },
        );
        let seen = |stop, error, len| Observation {
            stop,
            error,
            retry: 3,
            answers: 1,
            len,
            ..obs(1_000.0 + f64::from(len))
        };
        assert!(matches!(
            d.observe(seen(true, 1, 0)),
            Some(Event::Started { .. })
        ));
        assert_eq!(
            d.observe(seen(true, 1, 10)),
            None,
            "the old banner is no news"
        );
        assert_eq!(
            d.observe(seen(true, 2, 20)),
            Some(Event::Failed {
                reason: Failure::Error
            })
        );
    }

    #[test]
    fn a_regenerate_control_under_a_finished_answer_is_no_failure() {
        let mut d = page();
        d.observe(Observation {
            stop: true,
            ..obs(1_000.0)
        });
        let e = d.observe(Observation {
            answers: 1,
            len: 300,
            retry: 1,
            ..obs(2_000.0)
        });
        assert_eq!(e, None);
        assert!(matches!(d.tick(2_500.0), Some(Event::Finished { .. })));
    }

    #[test]
    fn growth_fallback_starts_after_sustained_growth_and_ends_on_idle() {
        let mut d = page();
        let mut t = 4_000.0;
        let mut started = None;
        for i in 1..=10u32 {
            t += 100.0;
            if let Some(e) = d.observe(Observation {
                answers: 1,
                len: i * 20,
                ..obs(t)
            }) {
                started.get_or_insert((e, t));
            }
        }
        let (e, at) = started.expect("growth starts a wait");
        assert_eq!(
            e,
            Event::Started {
                signal: Signal::Growth
            }
        );
        assert!((4_400.0..=4_500.0).contains(&at), "{at}");
        assert_eq!(d.tick(t + 1_000.0), None);
        assert!(matches!(d.tick(t + 2_600.0), Some(Event::Finished { .. })));
    }

    #[test]
    fn growth_is_ignored_after_navigation_and_where_a_control_exists() {
        let mut d = page();
        // SPA navigation at 4 s: the history renders (grows) for a second.
        for i in 0..10u32 {
            let e = d.observe(Observation {
                answers: 3,
                len: i * 100,
                path: "/c/123".into(),
                ..obs(4_000.0 + f64::from(i) * 100.0)
            });
            assert_eq!(e, None, "step {i}");
        }
        // A site whose stop control was seen once never starts on growth alone.
        let mut d = page();
        d.observe(Observation {
            stop: true,
            ..obs(1_000.0)
        });
        d.observe(Observation {
            answers: 1,
            len: 5,
            ..obs(1_100.0)
        });
        d.tick(2_000.0);
        for i in 0..20u32 {
            let e = d.observe(Observation {
                answers: 1,
                len: 10 + i * 10,
                ..obs(10_000.0 + f64::from(i) * 100.0)
            });
            assert_eq!(e, None);
        }
    }

    #[test]
    fn spa_navigation_keeps_a_control_wait_open() {
        let mut d = page();
        d.observe(Observation {
            stop: true,
            ..obs(1_000.0)
        });
        let e = d.observe(Observation {
            stop: true,
            answers: 1,
            len: 10,
            path: "/c/new".into(),
            ..obs(1_200.0)
        });
        assert_eq!(e, None);
        assert!(d.is_waiting());
    }

    /// A new chat gets its own address as its first answer starts: on the growth fallback the
    /// wait neither restarts nor ends there, and the finish says it was read by growth.
    #[test]
    fn a_new_chat_getting_its_address_keeps_a_growth_wait() {
        let mut d = page();
        let mut t = 4_000.0;
        let mut started = None;
        for i in 1..=30u32 {
            t += 100.0;
            // The address changes 200 ms into the answer, before growth alone started a wait.
            let path = if i >= 3 { "/a/chat/s/1f0c" } else { "/" };
            let e = d.observe(Observation {
                answers: 1,
                len: i * 20,
                path: path.into(),
                ..obs(t)
            });
            if let Some(e) = e {
                assert!(
                    started.is_none(),
                    "one start, no finish while growing: {e:?}"
                );
                started = Some((e, t));
            }
        }
        let (e, at) = started.expect("growth starts a wait across the new address");
        assert_eq!(
            e,
            Event::Started {
                signal: Signal::Growth
            }
        );
        assert!(
            at <= 4_500.0,
            "started at {at}, not 3 s after the address changed"
        );
        assert!(d.is_waiting());
        assert_eq!(
            d.tick(t + 2_600.0),
            Some(Event::Finished {
                generation_ms: t + 2_600.0 - at,
                signal: Signal::Growth,
            })
        );
    }

    /// Going to another conversation (its history renders) is still a navigation: a growth
    /// wait ends there.
    #[test]
    fn going_to_another_conversation_ends_a_growth_wait() {
        let mut d = page();
        let mut t = 4_000.0;
        for i in 1..=6u32 {
            t += 100.0;
            d.observe(Observation {
                answers: 1,
                len: i * 20,
                ..obs(t)
            });
        }
        assert!(d.is_waiting());
        let e = d.observe(Observation {
            answers: 6,
            len: 900,
            path: "/c/old".into(),
            ..obs(t + 100.0)
        });
        assert!(matches!(
            e,
            Some(Event::Finished {
                signal: Signal::Growth,
                ..
            })
        ));
    }
}
