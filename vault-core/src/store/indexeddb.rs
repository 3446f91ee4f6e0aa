//! The IndexedDB backend, on `rexie`. Works in a window, a dedicated worker and an extension
//! service worker alike: `rexie`/`idb` find `indexedDB` on the global scope, and nothing here
//! touches `window`.
//!
//! Every value is a `Uint8Array` of the entry's encoded bytes, keyed by a string. Callers seal
//! before calling [`VaultStore::write`]: a transaction auto-commits as soon as the event loop
//! turns with no request pending, so nothing else may be awaited inside one.

use js_sys::Uint8Array;
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

use super::{Batch, VaultStore};
use crate::error::StoreError;

const RECORDS: &str = "records";
const PENDING: &str = "pending";
const META: &str = "meta";
const ALL: [&str; 3] = [RECORDS, PENDING, META];
const DB_VERSION: u32 = 1;

fn backend(context: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("IndexedDB {context}: {e}"))
}

/// An open connection. Dropping it closes the connection: an unclosed one would block
/// `deleteDatabase` (and upgrades) from every other context until garbage collection.
pub struct IndexedDbStore {
    db: Option<Rexie>,
}

impl Drop for IndexedDbStore {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            db.close();
        }
    }
}

impl IndexedDbStore {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let db = Rexie::builder(name)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(RECORDS))
            .add_object_store(ObjectStore::new(PENDING))
            .add_object_store(ObjectStore::new(META))
            .build()
            .await
            .map_err(|e| backend("open", e))?;
        Ok(IndexedDbStore { db: Some(db) })
    }

    /// Deletes the database `name` entirely.
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Rexie::delete(name).await.map_err(|e| backend("delete", e))
    }

    /// Puts raw bytes under a key, bypassing the vault: lets tests damage an entry.
    pub async fn put_raw(&self, store: &str, key: &str, value: &JsValue) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&[store], TransactionMode::ReadWrite)
            .map_err(|e| backend("transaction", e))?;
        let s = tx.store(store).map_err(|e| backend("store", e))?;
        s.put(value, Some(&JsValue::from_str(key)))
            .await
            .map_err(|e| backend("put", e))?;
        finish(tx).await
    }

    /// Closes the connection now (dropping does the same).
    pub fn close(self) {}

    fn db(&self) -> &Rexie {
        self.db.as_ref().expect("the connection is open until drop")
    }

    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self
            .db()
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(|e| backend("transaction", e))?;
        let s = tx.store(store).map_err(|e| backend("store", e))?;
        let value = s
            .get(JsValue::from_str(key))
            .await
            .map_err(|e| backend("get", e))?;
        value.map(|v| bytes_of(key, v)).transpose()
    }

    async fn scan(&self, store: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let tx = self
            .db()
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(|e| backend("transaction", e))?;
        let s = tx.store(store).map_err(|e| backend("store", e))?;
        // Keys and values of one read-only transaction come back in the same (key) order.
        let keys = s
            .get_all_keys(None, None)
            .await
            .map_err(|e| backend("scan", e))?;
        let values = s
            .get_all(None, None)
            .await
            .map_err(|e| backend("scan", e))?;
        if keys.len() != values.len() {
            return Err(backend("scan", "keys and values differ in number"));
        }
        Ok(keys
            .into_iter()
            .zip(values)
            .map(|(k, v)| {
                let key = k.as_string().unwrap_or_else(|| format!("{k:?}"));
                // A value that is not bytes is handed on empty, so decoding reports it as a
                // corrupt entry (by key) instead of failing the whole scan.
                let bytes = bytes_of(&key, v).unwrap_or_default();
                (key, bytes)
            })
            .collect())
    }
}

fn bytes_of(key: &str, value: JsValue) -> Result<Vec<u8>, StoreError> {
    value
        .dyn_into::<Uint8Array>()
        .map(|a| a.to_vec())
        .map_err(|_| StoreError::Corrupt {
            key: key.to_owned(),
            reason: "value is not bytes".into(),
        })
}

async fn finish(tx: rexie::Transaction) -> Result<(), StoreError> {
    let result = tx.done().await.map_err(|e| backend("commit", e))?;
    if result.is_committed() {
        Ok(())
    } else {
        Err(backend("commit", "the transaction was aborted"))
    }
}

impl VaultStore for IndexedDbStore {
    async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(META, key).await
    }

    async fn get_record(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(RECORDS, key).await
    }

    async fn scan_records(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.scan(RECORDS).await
    }

    async fn scan_pending(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.scan(PENDING).await
    }

    async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&ALL, TransactionMode::ReadWrite)
            .map_err(|e| backend("transaction", e))?;
        for (name, entries) in [
            (RECORDS, &batch.records),
            (PENDING, &batch.pending),
            (META, &batch.meta),
        ] {
            if entries.is_empty() {
                continue;
            }
            let s = tx.store(name).map_err(|e| backend("store", e))?;
            for (key, bytes) in entries {
                s.put(
                    &Uint8Array::from(bytes.as_slice()).into(),
                    Some(&JsValue::from_str(key)),
                )
                .await
                .map_err(|e| backend("put", e))?;
            }
        }
        finish(tx).await
    }

    async fn ack_pending(&self, acks: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&[PENDING], TransactionMode::ReadWrite)
            .map_err(|e| backend("transaction", e))?;
        let s = tx.store(PENDING).map_err(|e| backend("store", e))?;
        for (key, expected) in acks {
            let current = s
                .get(JsValue::from_str(key))
                .await
                .map_err(|e| backend("get", e))?;
            let same = current
                .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                .is_some_and(|a| a.to_vec() == *expected);
            if same {
                s.delete(JsValue::from_str(key))
                    .await
                    .map_err(|e| backend("delete", e))?;
            }
        }
        finish(tx).await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&ALL, TransactionMode::ReadWrite)
            .map_err(|e| backend("transaction", e))?;
        for name in ALL {
            tx.store(name)
                .map_err(|e| backend("store", e))?
                .clear()
                .await
                .map_err(|e| backend("clear", e))?;
        }
        finish(tx).await
    }
}
