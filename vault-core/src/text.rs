//! Short texts people read in both the extension and the web app: counts, nouns in the right
//! number, and how long ago something happened. One place, so both say it the same way.

/// Thousands separators: `12345` -> `12,345`.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 sync conflict`, `2 sync conflicts`: a count with its noun in the right number.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", count(n), noun(n, one, many))
}

/// The noun for `n` things, where the number is shown apart from it (a large figure above a
/// label).
pub fn noun<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `just now`, `5 min ago`, `3 h ago`, `yesterday`, `4 days ago` (Unix milliseconds).
pub fn ago(then: u64, now: u64) -> String {
    let s = now.saturating_sub(then) / 1000;
    match s {
        0..=59 => "just now".into(),
        60..=3_599 => format!("{} min ago", s / 60),
        3_600..=86_399 => format!("{} h ago", s / 3_600),
        86_400..=172_799 => "yesterday".into(),
        _ => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: u64 = 86_400_000;

    #[test]
    fn counts_nouns_and_ages_read_right() {
        assert_eq!(count(12_345), "12,345");
        assert_eq!(count(999), "999");
        assert_eq!(counted(1, "answer", "answers"), "1 answer");
        assert_eq!(counted(0, "answer", "answers"), "0 answers");
        assert_eq!(noun(1, "fact known", "facts known"), "fact known");
        assert_eq!(counted(1_200, "conflict", "conflicts"), "1,200 conflicts");
        assert_eq!(ago(0, 59_999), "just now");
        assert_eq!(ago(0, 5 * 60_000), "5 min ago");
        assert_eq!(ago(0, DAY_MS + 1), "yesterday");
        assert_eq!(ago(0, 3 * DAY_MS), "3 days ago");
        assert_eq!(
            ago(10, 0),
            "just now",
            "a clock that went back is not the future"
        );
    }
}
