//! What each agent was last told: the instruction snapshots that alignment's staleness is
//! measured against. They name profile facts, so they are sealed under the vault key (like a
//! record, under an identity no answer can have) before they go into the store's `meta`
//! collection. They stay on this device: staleness is "since this browser's last export".

use vault_core::crypto::envelope::{self, Envelope, RecordAad};
use vault_core::graph::InstructionSnapshot;
use vault_core::{Namespace, RecordId, VaultKey};

use crate::AppError;

/// The store `meta` key holding the sealed snapshots.
pub const META_KEY: &str = "webapp_instruction_snapshots";
/// Snapshots kept per agent (newest first); staleness only needs the newest.
pub const KEEP_PER_AGENT: usize = 5;

fn aad() -> Result<RecordAad, AppError> {
    let ns =
        Namespace::new("selfos.webapp:snapshots").map_err(|e| AppError::Vault(e.to_string()))?;
    Ok(RecordAad::new(&ns, &RecordId::from_bytes([0xff; 16]), 1))
}

pub fn seal(key: &VaultKey, snapshots: &[InstructionSnapshot]) -> Result<Vec<u8>, AppError> {
    let json = serde_json::to_vec(snapshots).map_err(|e| AppError::Vault(e.to_string()))?;
    let sealed =
        envelope::seal_record(key, &aad()?, &json).map_err(|e| AppError::Vault(e.to_string()))?;
    Ok(sealed.into_bytes())
}

/// Opens what [`seal`] wrote; anything unreadable counts as "never exported".
pub fn open(key: &VaultKey, bytes: &[u8]) -> Vec<InstructionSnapshot> {
    let Ok(env) = Envelope::parse(bytes.to_vec()) else {
        return Vec::new();
    };
    let Ok(aad) = aad() else { return Vec::new() };
    envelope::open_record(key, &aad, &env)
        .ok()
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .unwrap_or_default()
}

/// Adds new snapshots, keeping the newest few per agent.
pub fn merge(old: &[InstructionSnapshot], new: &[InstructionSnapshot]) -> Vec<InstructionSnapshot> {
    let mut all: Vec<InstructionSnapshot> = new.iter().chain(old).cloned().collect();
    vault_core::sort::sort_by(&mut all, |a, b| {
        a.agent
            .cmp(&b.agent)
            .then(b.exported_at_ms.cmp(&a.exported_at_ms))
    });
    let mut out: Vec<InstructionSnapshot> = Vec::new();
    for s in all {
        if out.iter().filter(|o| o.agent == s.agent).count() < KEEP_PER_AGENT {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(agent: &str, at: u64) -> InstructionSnapshot {
        InstructionSnapshot {
            agent: agent.into(),
            exported_at_ms: at,
            strengths: [("tone=plain".to_string(), 0.7)].into_iter().collect(),
        }
    }

    #[test]
    fn seals_and_merges() {
        let key = VaultKey::generate().unwrap();
        let list = vec![snap("chatgpt", 5), snap("claude", 6)];
        let bytes = seal(&key, &list).unwrap();
        assert_eq!(open(&key, &bytes), list);
        let other = VaultKey::generate().unwrap();
        assert!(open(&other, &bytes).is_empty());
        let many: Vec<_> = (0..9).map(|i| snap("chatgpt", i)).collect();
        let merged = merge(&many, &[snap("gemini", 1)]);
        assert_eq!(
            merged.iter().filter(|s| s.agent == "chatgpt").count(),
            KEEP_PER_AGENT
        );
        assert_eq!(
            merged
                .iter()
                .find(|s| s.agent == "chatgpt")
                .unwrap()
                .exported_at_ms,
            8
        );
    }
}
