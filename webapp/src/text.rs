//! Formatting for people: answers, dates, percentages, agent names.

use vault_core::cards::library::Library;
use vault_core::graph::overview::date_of_day;
use vault_core::graph::DAY_MS;
pub use vault_core::text::{ago, count, counted, noun};
use vault_core::{Answer, AnswerRecord};

/// An answer as a short phrase, using the card's option labels where the library has them.
pub fn answer_text(lib: &Library, r: &AnswerRecord) -> String {
    let label = |value: &str| -> String {
        lib.card(&r.prompt_id)
            .and_then(|c| c.options.iter().find(|o| o.value == value))
            .map(|o| o.label.clone())
            .unwrap_or_else(|| value.to_owned())
    };
    match &r.answer {
        Answer::Choice { option } => label(option),
        Answer::Scale { value, min, max } => scale_text(
            lib.card(&r.prompt_id).and_then(|c| c.scale.as_ref()),
            *value,
            *min,
            *max,
        ),
        Answer::Pairwise { picked, over } => {
            // The pair's third option ("Neither / it depends") is told as itself.
            let way_out = lib
                .card(&r.prompt_id)
                .and_then(|c| c.options.get(2))
                .is_some_and(|o| o.value == *picked);
            if way_out {
                label(picked)
            } else {
                format!("{} over {}", label(picked), label(over))
            }
        }
        Answer::ShortText { text } => format!("“{text}”"),
        Answer::YesNo { value } => if *value { "Yes" } else { "No" }.into(),
        Answer::Skipped => "(skipped)".into(),
        Answer::Dismissed => "(dismissed)".into(),
    }
}

/// A scale answer in words: the end it is at or leans to, then where on the scale
/// ("Very helpful (7 of 7)", "Leaning to Very helpful (5 of 7)", "In between (4 of 7)").
fn scale_text(
    scale: Option<&vault_core::cards::library::Scale>,
    value: i32,
    min: i32,
    max: i32,
) -> String {
    let at = if min == 1 {
        format!("{value} of {max}")
    } else {
        format!("{value} on {min} to {max}")
    };
    let Some(s) = scale else { return at };
    let doubled = 2 * value;
    match value {
        v if v == min => format!("{} ({at})", s.min_label),
        v if v == max => format!("{} ({at})", s.max_label),
        _ if doubled > min + max => format!("Leaning to {} ({at})", s.max_label.to_lowercase()),
        _ if doubled < min + max => format!("Leaning to {} ({at})", s.min_label.to_lowercase()),
        _ => format!("In between ({at})"),
    }
}

/// The question the card asked, with `{agent}` and `{topic}` filled in as they were shown
/// (the prompt id when the card is not in this library).
pub fn question_text(lib: &Library, r: &AnswerRecord) -> String {
    let Some(card) = lib.card(&r.prompt_id) else {
        return r.prompt_id.clone();
    };
    card.text
        .replace("{agent}", &agent_name(r.namespace.as_str()))
        .replace("{topic}", r.page_context.as_deref().unwrap_or("this topic"))
}

/// `YYYY-MM-DD` (UTC) of a Unix time in ms.
pub fn date(ms: u64) -> String {
    date_of_day((ms / DAY_MS) as i64)
}

/// The end (last millisecond, UTC) of the day `YYYY-MM-DD` names, as a date input gives it;
/// `None` for anything else. The inverse of [`date`] at day precision.
pub fn end_of_date(s: &str) -> Option<u64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let day = era * 146_097 + doe - 719_468;
    // A day that does not exist (`2026-02-30`) does not round-trip.
    let ms = u64::try_from(day).ok()? * DAY_MS + DAY_MS - 1;
    (date(ms) == s.trim()).then_some(ms)
}

/// `YYYY-MM-DD HH:MM` (UTC).
pub fn date_time(ms: u64) -> String {
    let mins = (ms % DAY_MS) / 60_000;
    format!("{} {:02}:{:02}", date(ms), mins / 60, mins % 60)
}

/// `0.423` -> `42%`.
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.0}%", (x * 100.0).clamp(0.0, 100.0))
    } else {
        "–".into()
    }
}

/// A rate to one decimal, `<0.1` for a small one that is not zero (one answer in 30 days is
/// not `0.0` a day).
pub fn rate(x: f64) -> String {
    match x {
        x if !x.is_finite() => "–".into(),
        x if x > 0.0 && x < 0.05 => "<0.1".into(),
        x => format!("{x:.1}"),
    }
}

/// `chatgpt` -> `ChatGPT`, `mistral` -> `Le Chat`: the agents table's name, as the extension
/// and the exports name agents.
pub fn agent_name(agent: &str) -> String {
    vault_core::agents::display_name(agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(pct(0.423), "42%");
        assert_eq!(pct(f64::NAN), "–");
        assert_eq!(rate(1.0 / 30.0), "<0.1");
        assert_eq!(rate(0.0), "0.0");
        assert_eq!(rate(2.46), "2.5");
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date_time(DAY_MS + 61 * 60_000), "1970-01-02 01:01");
        assert_eq!(end_of_date("1970-01-02"), Some(2 * DAY_MS - 1));
        assert_eq!(
            end_of_date("2026-12-02").map(date).as_deref(),
            Some("2026-12-02")
        );
        assert_eq!(
            end_of_date("2024-02-29").map(date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(end_of_date("2026-02-30"), None);
        assert_eq!(end_of_date("yesterday"), None);
    }

    #[test]
    fn scale_answers_read_as_words() {
        let s = vault_core::cards::library::Scale {
            min: 1,
            max: 7,
            min_label: "Not helpful".into(),
            max_label: "Very helpful".into(),
        };
        assert_eq!(scale_text(Some(&s), 7, 1, 7), "Very helpful (7 of 7)");
        assert_eq!(scale_text(Some(&s), 1, 1, 7), "Not helpful (1 of 7)");
        assert_eq!(
            scale_text(Some(&s), 5, 1, 7),
            "Leaning to very helpful (5 of 7)"
        );
        assert_eq!(
            scale_text(Some(&s), 3, 1, 7),
            "Leaning to not helpful (3 of 7)"
        );
        assert_eq!(scale_text(Some(&s), 4, 1, 7), "In between (4 of 7)");
        assert_eq!(scale_text(None, 2, 0, 4), "2 on 0 to 4");
    }
}
