//! An in-memory backend for native code and tests. `Clone` shares the same data, like two
//! handles on one IndexedDB database.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::{Batch, Current, VaultStore};
use crate::error::StoreError;

type Table = BTreeMap<String, Vec<u8>>;

#[derive(Debug, Default)]
struct Tables {
    records: Table,
    pending: Table,
    meta: Table,
    conflicts: Table,
}

#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    tables: Rc<RefCell<Tables>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Overwrites a raw record entry, bypassing the vault: lets tests damage the store.
    pub fn put_raw_record(&self, key: &str, bytes: Vec<u8>) {
        self.tables
            .borrow_mut()
            .records
            .insert(key.to_owned(), bytes);
    }

    /// Overwrites a raw meta entry, bypassing the vault.
    pub fn put_raw_meta(&self, key: &str, bytes: Vec<u8>) {
        self.tables.borrow_mut().meta.insert(key.to_owned(), bytes);
    }
}

/// Runs a future over a [`MemoryStore`] to completion. Memory-store futures never wait, so
/// one poll finishes them: native callers (tests, the CLI, examples) need no executor.
///
/// # Panics
/// If the future is not ready after one poll, i.e. it awaits something other than this store.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(v) => v,
        Poll::Pending => {
            panic!("block_on: the future waited on something other than a MemoryStore")
        }
    }
}

fn scan(table: &Table) -> Vec<(String, Vec<u8>)> {
    table.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl VaultStore for MemoryStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables.borrow().meta.get(key).cloned())
    }

    async fn get_record(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables.borrow().records.get(key).cloned())
    }

    async fn scan_records(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(scan(&self.tables.borrow().records))
    }

    async fn scan_pending(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(scan(&self.tables.borrow().pending))
    }

    async fn scan_conflicts(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(scan(&self.tables.borrow().conflicts))
    }

    async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let mut t = self.tables.borrow_mut();
        if batch.insert_only {
            if let Some((key, _)) = batch
                .records
                .iter()
                .find(|(k, _)| t.records.contains_key(k))
            {
                return Err(StoreError::Exists { key: key.clone() });
            }
        }
        t.records.extend(batch.records);
        t.pending.extend(batch.pending);
        t.meta.extend(batch.meta);
        t.conflicts.extend(batch.conflicts);
        for key in &batch.delete_pending {
            t.pending.remove(key);
        }
        for key in &batch.delete_conflicts {
            t.conflicts.remove(key);
        }
        Ok(())
    }

    async fn update_record<T, E, F>(&self, key: &str, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(Current) -> Result<(Batch, T), E>,
    {
        let current = {
            let t = self.tables.borrow();
            Current {
                record: t.records.get(key).cloned(),
                pending: t.pending.get(key).cloned(),
            }
        };
        let (batch, out) = f(current)?;
        self.write(batch).await?;
        Ok(out)
    }

    async fn ack_pending(&self, acks: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut t = self.tables.borrow_mut();
        for (key, bytes) in acks {
            if t.pending.get(key) == Some(bytes) {
                t.pending.remove(key);
            }
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        *self.tables.borrow_mut() = Tables::default();
        Ok(())
    }
}
