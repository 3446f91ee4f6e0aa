//! Hybrid logical clock (Kulkarni et al., 2014): wall-clock milliseconds plus a counter plus
//! the device id. Timestamps are unique per device, strictly increasing on each device even
//! when the wall clock steps back, and ordered after every timestamp the device has seen.
//! Sync resolves concurrent edits of one record by the larger timestamp (last writer wins).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::VaultError;

/// A remote timestamp further ahead of the local wall clock than this is refused: it means
/// a device with a badly wrong date, which would otherwise drag every clock into the future.
pub const MAX_DRIFT_MS: u64 = 24 * 60 * 60 * 1000;

/// One point in hybrid logical time. Ordered by wall time, then counter, then device.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: u64,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc {
        wall_ms: 0,
        counter: 0,
        node: 0,
    };
}

impl fmt::Display for Hlc {
    /// Fixed-width, so the string order equals the timestamp order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:015}-{:08x}-{:016x}",
            self.wall_ms, self.counter, self.node
        )
    }
}

impl fmt::Debug for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hlc({self})")
    }
}

impl FromStr for Hlc {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || VaultError::invalid("clock", format!("`{s}` is not a timestamp"));
        let mut parts = s.split('-');
        let (Some(w), Some(c), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        // Digits only: the integer parsers would also take a sign (`+1`), which this
        // format never writes.
        if w.len() != 15
            || c.len() != 8
            || n.len() != 16
            || !w.bytes().all(|b| b.is_ascii_digit())
            || !(c.bytes().chain(n.bytes())).all(|b| b.is_ascii_hexdigit())
        {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: w.parse().map_err(|_| bad())?,
            counter: u32::from_str_radix(c, 16).map_err(|_| bad())?,
            node: u64::from_str_radix(n, 16).map_err(|_| bad())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A device's clock. Persist [`HlcClock::last`] with every write so it stays monotonic
/// across restarts (the vault does this inside the write's transaction).
#[derive(Debug, Clone)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    pub fn new(node: u64) -> Self {
        HlcClock {
            last: Hlc { node, ..Hlc::ZERO },
        }
    }

    /// Resumes from a persisted timestamp.
    pub fn resume(node: u64, last: Hlc) -> Self {
        HlcClock {
            last: Hlc { node, ..last },
        }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A new local timestamp, greater than every one this clock has issued or observed.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        self.last = if now_ms > self.last.wall_ms {
            Hlc {
                wall_ms: now_ms,
                counter: 0,
                node: self.last.node,
            }
        } else {
            self.advance_counter(self.last.wall_ms, self.last.counter)
        };
        self.last
    }

    /// Takes a remote timestamp into account (on receiving a change), so later local
    /// timestamps order after it. Refuses one too far ahead of the local wall clock.
    pub fn observe(&mut self, remote: Hlc, now_ms: u64) -> Result<Hlc, VaultError> {
        if remote.wall_ms > now_ms.saturating_add(MAX_DRIFT_MS) {
            return Err(VaultError::ClockDrift {
                ahead_ms: remote.wall_ms - now_ms,
                max_ms: MAX_DRIFT_MS,
            });
        }
        let wall = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        self.last = if wall == self.last.wall_ms && wall == remote.wall_ms {
            self.advance_counter(wall, self.last.counter.max(remote.counter))
        } else if wall == self.last.wall_ms {
            self.advance_counter(wall, self.last.counter)
        } else if wall == remote.wall_ms {
            self.advance_counter(wall, remote.counter)
        } else {
            Hlc {
                wall_ms: wall,
                counter: 0,
                node: self.last.node,
            }
        };
        Ok(self.last)
    }

    /// `counter + 1` at `wall`; on counter overflow (4 billion events in one millisecond)
    /// move to the next millisecond instead of wrapping.
    fn advance_counter(&self, wall: u64, counter: u32) -> Hlc {
        match counter.checked_add(1) {
            Some(c) => Hlc {
                wall_ms: wall,
                counter: c,
                node: self.last.node,
            },
            None => Hlc {
                wall_ms: wall + 1,
                counter: 0,
                node: self.last.node,
            },
        }
    }
}
