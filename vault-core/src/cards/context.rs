//! Local context for contextual cards: a topic keyword from the prompt the user just sent.
//!
//! Runs on the device only when the user opted in; only the returned keyword is ever used
//! (to fill `{topic}`), never stored with the answer unless the user opted in to that too.

/// Common English words that never make a topic.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "best",
    "better",
    "between",
    "both",
    "build",
    "but",
    "by",
    "can",
    "check",
    "code",
    "compare",
    "could",
    "create",
    "describe",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "draft",
    "during",
    "each",
    "explain",
    "few",
    "find",
    "fix",
    "for",
    "from",
    "further",
    "generate",
    "get",
    "give",
    "good",
    "had",
    "has",
    "have",
    "having",
    "he",
    "help",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "improve",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "like",
    "list",
    "make",
    "me",
    "more",
    "most",
    "my",
    "need",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "please",
    "review",
    "rewrite",
    "same",
    "she",
    "should",
    "show",
    "so",
    "some",
    "such",
    "suggest",
    "summarize",
    "tell",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "translate",
    "under",
    "until",
    "up",
    "use",
    "using",
    "very",
    "want",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "without",
    "would",
    "write",
    "you",
    "your",
];

fn is_stopword(w: &str) -> bool {
    STOPWORDS.binary_search(&w).is_ok()
}

/// The most specific short phrase in `prompt` (one or two words), or `None` if nothing
/// stands out. Prefers words that look like names or terms (capitalized mid-sentence, with
/// digits, long), and adjacent pairs of such words ("borrow checker").
pub fn topic_keyword(prompt: &str) -> Option<String> {
    let words: Vec<(String, bool)> = prompt
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '+' || c == '#'))
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            let capitalized = i > 0 && w.chars().next().is_some_and(char::is_uppercase);
            (w.to_lowercase(), capitalized)
        })
        .collect();
    let score = |(w, cap): &(String, bool)| -> f64 {
        if is_stopword(w) || w.chars().count() < 3 || w.chars().all(|c| c.is_ascii_digit()) {
            return 0.0;
        }
        let len = w.chars().count() as f64;
        len.min(12.0) / 4.0
            + if *cap { 1.5 } else { 0.0 }
            + if w.chars().any(|c| c.is_ascii_digit()) {
                0.5
            } else {
                0.0
            }
    };
    let mut best: Option<(f64, String)> = None;
    for i in 0..words.len() {
        let s1 = score(&words[i]);
        if s1 <= 0.0 {
            continue;
        }
        let mut candidates = vec![(s1, words[i].0.clone())];
        if let Some(next) = words.get(i + 1) {
            let s2 = score(next);
            if s2 > 0.0 {
                candidates.push((s1 + s2 + 0.5, format!("{} {}", words[i].0, next.0)));
            }
        }
        for (s, phrase) in candidates {
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, phrase));
            }
        }
    }
    best.filter(|(s, _)| *s >= 2.0)
        .map(|(_, p)| p.chars().take(40).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn picks_the_specific_term() {
        assert_eq!(
            topic_keyword("Can you explain how the borrow checker works?").as_deref(),
            Some("borrow checker")
        );
        assert_eq!(
            topic_keyword("Write a haiku about Kubernetes").as_deref(),
            Some("kubernetes")
        );
        assert_eq!(
            topic_keyword("Compare PostgreSQL 16 and SQLite").as_deref(),
            Some("postgresql")
        );
        assert_eq!(topic_keyword("thanks!"), None);
        assert_eq!(topic_keyword("what is it?"), None);
        assert_eq!(topic_keyword(""), None);
    }
}
