//! The Data view's table: every answer, searchable, newest first, a page at a time (the DOM
//! never holds ten thousand rows).

use vault_core::cards::library::Library;
use vault_core::AnswerRecord;

use crate::text::{answer_text, question_text};

/// Rows per page.
pub const PAGE: usize = 50;

/// Indices into `records` matching `query` in the question, the answer, the agent or the
/// record id (case-insensitive; every word must match), newest first.
pub fn search(lib: &Library, records: &[AnswerRecord], query: &str) -> Vec<usize> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut hits: Vec<usize> = (0..records.len())
        .filter(|&i| {
            if words.is_empty() {
                return true;
            }
            let r = &records[i];
            let hay = format!(
                "{} {} {} {} {}",
                question_text(lib, r),
                answer_text(lib, r),
                r.namespace,
                r.id,
                r.prompt_id
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    vault_core::sort::sort_by(&mut hits, |&a, &b| {
        records[b]
            .captured_at_ms
            .cmp(&records[a].captured_at_ms)
            .then(records[b].id.cmp(&records[a].id))
    });
    hits
}

/// The slice of `hits` on page `page` (0-based, clamped), and the page count.
pub fn page(hits: &[usize], page: usize) -> (&[usize], usize) {
    let pages = hits.len().div_ceil(PAGE).max(1);
    let p = page.min(pages - 1);
    let start = p * PAGE;
    (
        &hits[start.min(hits.len())..(start + PAGE).min(hits.len())],
        pages,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vault_core::cards::builtin;
    use vault_core::graph::synthetic;

    #[test]
    fn searches_and_pages() {
        let lib = builtin();
        let records = synthetic::answers(lib, 120, 1_700_000_000_000, 1);
        let all = search(lib, &records, "");
        assert_eq!(all.len(), 120);
        assert!(records[all[0]].captured_at_ms >= records[all[1]].captured_at_ms);
        let id = records[5].id.to_string();
        assert_eq!(search(lib, &records, &id), vec![5]);
        let claude = search(lib, &records, "CLAUDE");
        assert!(!claude.is_empty() && claude.len() < 120);
        let (rows, pages) = page(&all, 2);
        assert_eq!(pages, 3);
        assert_eq!(rows.len(), 20);
        let (rows, _) = page(&all, 99);
        assert_eq!(rows.len(), 20);
    }
}
