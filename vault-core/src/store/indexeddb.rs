//! The IndexedDB backend, on `rexie`. Works in a window, a dedicated worker and an extension
//! service worker alike: `rexie`/`idb` find `indexedDB` on the global scope, and nothing here
//! touches `window`.
//!
//! Every value is a `Uint8Array` of the entry's encoded bytes, keyed by a string. Callers seal
//! before calling [`VaultStore::write`]: a transaction auto-commits as soon as the event loop
//! turns with no request pending, so nothing else may be awaited inside one.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use js_sys::Uint8Array;
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

use super::{Batch, Current, VaultStore};
use crate::error::StoreError;

const RECORDS: &str = "records";
const PENDING: &str = "pending";
const META: &str = "meta";
const CONFLICTS: &str = "conflicts";
const ALL: [&str; 4] = [RECORDS, PENDING, META, CONFLICTS];
/// 1: records, pending, meta. 2: + conflicts (added on upgrade; nothing else changes).
const DB_VERSION: u32 = 2;

fn backend(context: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("IndexedDB {context}: {e}"))
}

fn idb_err(context: &str, e: rexie::Error) -> StoreError {
    backend(context, describe(&e))
}

/// rexie's own message for browser errors is just "idb error": show the browser's.
fn describe(e: &rexie::Error) -> String {
    match e {
        rexie::Error::IdbError(inner) => inner.to_string(),
        other => other.to_string(),
    }
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
            .add_object_store(ObjectStore::new(CONFLICTS))
            .build()
            .await
            .map_err(|e| idb_err("open", e))?;
        Ok(IndexedDbStore { db: Some(db) })
    }

    /// Deletes the database `name` entirely.
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Rexie::delete(name).await.map_err(|e| idb_err("delete", e))
    }

    /// Puts raw bytes under a key, bypassing the vault: lets tests damage an entry.
    pub async fn put_raw(&self, store: &str, key: &str, value: &JsValue) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&[store], TransactionMode::ReadWrite)
            .map_err(|e| idb_err("transaction", e))?;
        let s = tx.store(store).map_err(|e| idb_err("store", e))?;
        s.put(value, Some(&JsValue::from_str(key)))
            .await
            .map_err(|e| idb_err("put", e))?;
        finish(tx).await
    }

    /// Closes the connection now (dropping does the same).
    pub fn close(self) {}

    fn begin_write(&self) -> Result<rexie::Transaction, StoreError> {
        self.db()
            .transaction(&ALL, TransactionMode::ReadWrite)
            .map_err(|e| idb_err("transaction", e))
    }

    fn db(&self) -> &Rexie {
        self.db.as_ref().expect("the connection is open until drop")
    }

    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self
            .db()
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(|e| idb_err("transaction", e))?;
        let s = tx.store(store).map_err(|e| idb_err("store", e))?;
        let value = s
            .get(JsValue::from_str(key))
            .await
            .map_err(|e| idb_err("get", e))?;
        value.map(|v| bytes_of(key, v)).transpose()
    }

    async fn scan(&self, store: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let tx = self
            .db()
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(|e| idb_err("transaction", e))?;
        let s = tx.store(store).map_err(|e| idb_err("store", e))?;
        // Keys and values of one read-only transaction come back in the same (key) order.
        let keys = s
            .get_all_keys(None, None)
            .await
            .map_err(|e| idb_err("scan", e))?;
        let values = s
            .get_all(None, None)
            .await
            .map_err(|e| idb_err("scan", e))?;
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
    let result = tx.done().await.map_err(|e| idb_err("commit", e))?;
    if result.is_committed() {
        Ok(())
    } else {
        Err(backend("commit", "the transaction was aborted"))
    }
}

/// Issues every write of `batch` in `tx` at once, then waits for all of them. Requests of
/// one transaction run in order anyway; awaiting each before issuing the next would only add
/// a round trip to the database per entry.
async fn put_batch(tx: &rexie::Transaction, batch: &Batch) -> Result<(), StoreError> {
    let mut stores = Vec::new();
    for (name, entries) in [
        (RECORDS, &batch.records),
        (PENDING, &batch.pending),
        (META, &batch.meta),
        (CONFLICTS, &batch.conflicts),
    ] {
        if entries.is_empty() {
            continue;
        }
        let store = tx.store(name).map_err(|e| idb_err("store", e))?;
        let values: Vec<(JsValue, JsValue)> = entries
            .iter()
            .map(|(k, v)| (JsValue::from_str(k), Uint8Array::from(v.as_slice()).into()))
            .collect();
        stores.push((store, values));
    }
    let mut deletes = Vec::new();
    for (name, keys) in [
        (PENDING, &batch.delete_pending),
        (CONFLICTS, &batch.delete_conflicts),
    ] {
        if !keys.is_empty() {
            let store = tx.store(name).map_err(|e| idb_err("store", e))?;
            deletes.push((
                store,
                keys.iter()
                    .map(|k| JsValue::from_str(k))
                    .collect::<Vec<_>>(),
            ));
        }
    }
    let mut requests: Vec<Pin<Box<dyn Future<Output = rexie::Result<JsValue>> + '_>>> = Vec::new();
    let mut first = true;
    for (store, values) in &stores {
        // `records` comes first in `stores` when present.
        let add = batch.insert_only && first && !batch.records.is_empty();
        first = false;
        for (key, value) in values {
            requests.push(if add {
                Box::pin(store.add(value, Some(key)))
            } else {
                Box::pin(store.put(value, Some(key)))
            });
        }
    }
    for (store, keys) in &deletes {
        for key in keys {
            requests.push(Box::pin(async move {
                store.delete(key.clone()).await.map(|()| JsValue::UNDEFINED)
            }));
        }
    }
    let results = join_all(requests).await;
    for (i, r) in results.into_iter().enumerate() {
        if let Err(e) = r {
            let text = describe(&e);
            return Err(match batch.records.get(i) {
                Some((key, _)) if batch.insert_only && text.contains("Constraint") => {
                    StoreError::Exists { key: key.clone() }
                }
                _ => backend("put", text),
            });
        }
    }
    Ok(())
}

/// Polls every future until all are done; results in input order.
async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
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

    async fn scan_conflicts(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.scan(CONFLICTS).await
    }

    async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let tx = self.begin_write()?;
        put_batch(&tx, &batch).await?;
        finish(tx).await
    }

    async fn update_record<T, E, F>(&self, key: &str, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(Current) -> Result<(Batch, T), E>,
    {
        let tx = self.begin_write()?;
        let records = tx.store(RECORDS).map_err(|e| idb_err("store", e))?;
        let pending = tx.store(PENDING).map_err(|e| idb_err("store", e))?;
        let k = JsValue::from_str(key);
        let mut both = join_all(vec![
            Box::pin(records.get(k.clone())),
            Box::pin(pending.get(k)),
        ])
        .await;
        let pending_value = both
            .pop()
            .unwrap_or(Ok(None))
            .map_err(|e| idb_err("get", e))?;
        let record_value = both
            .pop()
            .unwrap_or(Ok(None))
            .map_err(|e| idb_err("get", e))?;
        let current = Current {
            record: record_value.map(|v| bytes_of(key, v)).transpose()?,
            pending: pending_value.map(|v| bytes_of(key, v)).transpose()?,
        };
        let (batch, out) = match f(current) {
            Ok(r) => r,
            Err(e) => {
                // Nothing was written; abort so the transaction ends at once.
                let _ = tx.abort().await;
                return Err(e);
            }
        };
        put_batch(&tx, &batch).await?;
        finish(tx).await?;
        Ok(out)
    }

    async fn ack_pending(&self, acks: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&[PENDING], TransactionMode::ReadWrite)
            .map_err(|e| idb_err("transaction", e))?;
        let s = tx.store(PENDING).map_err(|e| idb_err("store", e))?;
        for (key, expected) in acks {
            let current = s
                .get(JsValue::from_str(key))
                .await
                .map_err(|e| idb_err("get", e))?;
            let same = current
                .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                .is_some_and(|a| a.to_vec() == *expected);
            if same {
                s.delete(JsValue::from_str(key))
                    .await
                    .map_err(|e| idb_err("delete", e))?;
            }
        }
        finish(tx).await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let tx = self
            .db()
            .transaction(&ALL, TransactionMode::ReadWrite)
            .map_err(|e| idb_err("transaction", e))?;
        for name in ALL {
            tx.store(name)
                .map_err(|e| idb_err("store", e))?
                .clear()
                .await
                .map_err(|e| idb_err("clear", e))?;
        }
        finish(tx).await
    }
}
