//! The card library: schema types, parsing and validation (assets/cards/SCHEMA.md).
//!
//! Self-contained on purpose (serde only, no `crate::` paths): the build script includes this
//! very file to validate `assets/cards/*.json` at build time, so a broken library never ships.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The graph node kind a facet's values become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Preference,
    Value,
    Skill,
    Goal,
    Constraint,
    Topic,
    Trait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    Choice,
    Scale,
    Pairwise,
    ShortText,
    YesNo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardContext {
    Topic,
    Agent,
    /// Never shown: the card files what an AI agent proposed and the user accepted
    /// (`selfos mcp`'s proposals, `vault_core::proposal`), so such an answer
    /// enters the graph like any other free-text answer.
    Proposal,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacetValue {
    pub id: String,
    pub label: String,
    /// The plain sentence an AI agent is told when this is the user's value, in the user's
    /// voice ("I prefer brief answers."). Empty when the value alone says nothing an agent
    /// can use (e.g. "My first language" without saying which): such a value is never told.
    #[serde(default)]
    pub says: Option<String>,
    /// The "neither / it depends" answer of a pair (assets/cards/SCHEMA.md): only on a facet
    /// that is not ordinal, at most one per facet.
    #[serde(default)]
    pub neither: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facet {
    pub id: String,
    pub label: String,
    pub node_kind: NodeKind,
    #[serde(default)]
    pub values: Vec<FacetValue>,
    #[serde(default)]
    pub ordinal: bool,
    #[serde(default)]
    pub open: bool,
    #[serde(default)]
    pub per_agent: bool,
    pub stability_days: f64,
    /// Open facets: the sentence an agent is told, `{text}` standing for the user's words.
    #[serde(default)]
    pub says: Option<String>,
    /// A question about SelfOS itself (e.g. how well an AI understands the user): shown in
    /// SelfOS's own metrics, never told to an agent.
    #[serde(default)]
    pub meta: bool,
    /// Filled in on load: the dimension this facet belongs to.
    #[serde(skip)]
    pub dimension: String,
    /// Filled in on load: the dimension's priority.
    #[serde(skip)]
    pub priority: f64,
    /// Filled in on load: the dimension is asked first (its `first` flag).
    #[serde(skip)]
    pub first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardOption {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
    pub min_label: String,
    pub max_label: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub id: String,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: CardKind,
    pub facet: String,
    pub text: String,
    #[serde(default)]
    pub options: Vec<CardOption>,
    #[serde(default)]
    pub scale: Option<Scale>,
    pub expected_seconds: f64,
    #[serde(default)]
    pub context: Option<CardContext>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DimensionFile {
    dimension: String,
    label: String,
    /// How much knowing this dimension matters to the user's agents (1 = normal, up to 3).
    /// The scheduler weighs information by it; "top dimensions" have priority >= 2.
    #[serde(default = "default_priority")]
    priority: f64,
    /// Answers here change the very next AI answer (length, tone, format, feedback): a new
    /// user's first cards come from such dimensions ([`super::scheduler`]'s cold start).
    #[serde(default)]
    first: bool,
    facets: Vec<Facet>,
    cards: Vec<Card>,
}

fn default_priority() -> f64 {
    1.0
}

/// Dimensions with at least this priority are the "top dimensions".
pub const TOP_PRIORITY: f64 = 2.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub id: String,
    pub label: String,
    pub priority: f64,
}

/// A validated library. Cards and facets keep file order; lookups go through the indexes.
#[derive(Debug, Clone)]
pub struct Library {
    pub dimensions: Vec<Dimension>,
    pub facets: Vec<Facet>,
    pub cards: Vec<Card>,
    facet_index: BTreeMap<String, usize>,
    card_index: BTreeMap<String, usize>,
}

pub const MAX_TEXT_CHARS: usize = 90;
pub const MAX_OPTION_CHARS: usize = 40;
pub const MAX_SECONDS: f64 = 8.0;
pub const MIN_SECONDS: f64 = 2.0;

/// Topics the browser already knows or that change no answer an AI gives: no facet or card
/// may ask about them (matched as whole words in facet ids and labels and in card texts).
pub const BROWSER_KNOWS: &[&str] = &[
    "timezone",
    "time zone",
    "operating system",
    "units",
    "office apps",
    "working hours",
    "time of day",
];

/// The deny-listed topic `text` mentions, if any (lowercase, whole words: `.`, `-` and
/// punctuation separate words).
pub fn browser_knows(text: &str) -> Option<&'static str> {
    let words: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let padded = format!(
        " {} ",
        words.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    BROWSER_KNOWS
        .iter()
        .find(|t| padded.contains(&format!(" {t} ")))
        .copied()
}

/// Seconds a person needs to read and answer a card: the budget `expected_seconds` must cover.
pub fn reading_budget(card: &Card) -> f64 {
    let words = card.text.split_whitespace().count() as f64;
    let options = match card.kind {
        CardKind::Scale => 2.0,
        _ => card.options.len() as f64,
    };
    1.0 + words / 4.0
        + 0.6 * options
        + if card.kind == CardKind::ShortText {
            4.0
        } else {
            0.0
        }
}

/// What the schema asks of a facet's sentences (`says`): a meta facet has none; an open one
/// has a template with `{text}`; every value of a closed one has a sentence (possibly empty:
/// never told), one line, ending like a sentence.
fn says_problems(facet: &Facet) -> Vec<String> {
    let mut e = Vec::new();
    let sentence = |s: &str| {
        let t = s.trim();
        t == s && !s.contains('\n') && s.chars().count() <= 160 && s.ends_with(['.', '!', '?'])
    };
    if facet.meta {
        if facet.says.is_some() || facet.values.iter().any(|v| v.says.is_some()) {
            e.push("a meta facet is never told to an agent: no `says`".into());
        }
        return e;
    }
    if facet.open {
        match facet.says.as_deref() {
            Some(t) if t.matches("{text}").count() == 1 && !t.contains('\n') => {}
            _ => e.push("an open facet needs `says` with `{text}` once".into()),
        }
        return e;
    }
    if facet.says.is_some() {
        e.push("a closed facet's sentences go on its values".into());
    }
    for v in &facet.values {
        match v.says.as_deref() {
            None => e.push(format!(
                "value `{}` needs `says` (a sentence, or \"\" if it says nothing an agent can use)",
                v.id
            )),
            Some("") => {}
            Some(s) if !sentence(s) => e.push(format!(
                "value `{}`: `says` must be one trimmed line of at most 160 characters ending in . ! or ?",
                v.id
            )),
            Some(_) => {}
        }
    }
    e
}

fn value_index(facet: &Facet, value: &str) -> Option<usize> {
    facet.values.iter().position(|v| v.id == value)
}

/// Yes and No on an ordinal facet are its lowest and highest values (either way round): a
/// middle value would make "Yes" mean "somewhat", which a later answer then contradicts.
fn yes_no_at_the_ends(facet: &Facet, options: &[CardOption]) -> bool {
    let last = facet.values.len().saturating_sub(1);
    let mut ends: Vec<Option<usize>> = options
        .iter()
        .map(|o| value_index(facet, &o.value))
        .collect();
    ends.sort();
    ends == [Some(0), Some(last)]
}

/// The third option of a pair lets the user say neither: a `neither` value, or on an ordinal
/// facet a value strictly between the two sides.
fn pair_has_neither(facet: &Facet, options: &[CardOption]) -> bool {
    let [a, b, third] = options else {
        return false;
    };
    let index = |o: &CardOption| value_index(facet, &o.value);
    let neither = |o: &CardOption| facet.values.iter().any(|v| v.id == o.value && v.neither);
    if facet.ordinal {
        match (index(a), index(b), index(third)) {
            (Some(a), Some(b), Some(t)) => a.min(b) < t && t < a.max(b),
            _ => false,
        }
    } else {
        neither(third) && !neither(a) && !neither(b)
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 96
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

impl Library {
    /// Parses and validates `(file name, JSON text)` pairs. Returns every problem found, each
    /// naming the file and the card or facet, not just the first.
    pub fn parse(files: &[(&str, &str)]) -> Result<Library, Vec<String>> {
        let mut errors = Vec::new();
        let mut lib = Library {
            dimensions: Vec::new(),
            facets: Vec::new(),
            cards: Vec::new(),
            facet_index: BTreeMap::new(),
            card_index: BTreeMap::new(),
        };
        for (name, text) in files {
            let file: DimensionFile = match serde_json::from_str(text) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(format!("{name}: not a valid card file: {e}"));
                    continue;
                }
            };
            if !valid_id(&file.dimension) {
                errors.push(format!("{name}: bad dimension id `{}`", file.dimension));
            }
            if !(0.5..=3.0).contains(&file.priority) {
                errors.push(format!(
                    "{name}: priority {} outside 0.5..=3",
                    file.priority
                ));
            }
            lib.dimensions.push(Dimension {
                id: file.dimension.clone(),
                label: file.label,
                priority: file.priority,
            });
            for mut facet in file.facets {
                facet.dimension = file.dimension.clone();
                facet.priority = file.priority;
                facet.first = file.first;
                let err = |m: String| format!("{name}: facet `{}`: {m}", facet.id);
                if !valid_id(&facet.id) {
                    errors.push(err("id must be lowercase a-z 0-9 . _ -".into()));
                }
                if lib.facet_index.contains_key(&facet.id) {
                    errors.push(err("duplicate facet id".into()));
                }
                if facet.open {
                    if !facet.values.is_empty() || facet.ordinal {
                        errors.push(err("an open facet has no values and is not ordinal".into()));
                    }
                } else {
                    if !(2..=6).contains(&facet.values.len()) {
                        errors.push(err(format!(
                            "{} values; 2 to 6 are allowed",
                            facet.values.len()
                        )));
                    }
                    let ids: BTreeSet<_> = facet.values.iter().map(|v| v.id.as_str()).collect();
                    if ids.len() != facet.values.len()
                        || !facet.values.iter().all(|v| valid_id(&v.id))
                    {
                        errors.push(err("value ids must be unique and lowercase".into()));
                    }
                }
                if let Some(t) = browser_knows(&facet.id).or_else(|| browser_knows(&facet.label)) {
                    errors.push(err(format!(
                        "asks about {t}, which the browser knows or which changes no answer"
                    )));
                }
                let neither = facet.values.iter().filter(|v| v.neither).count();
                if neither > 1 || (neither == 1 && (facet.ordinal || facet.open)) {
                    errors.push(err(
                        "at most one `neither` value, and only on a facet that is not ordinal"
                            .into(),
                    ));
                }
                for e in says_problems(&facet) {
                    errors.push(err(e));
                }
                if !(facet.stability_days > 0.0 && facet.stability_days <= 3650.0) {
                    errors.push(err("stability_days must be in (0, 3650]".into()));
                }
                lib.facet_index.insert(facet.id.clone(), lib.facets.len());
                lib.facets.push(facet);
            }
            for card in file.cards {
                for e in lib.check_card(&card) {
                    errors.push(format!("{name}: card `{}`: {e}", card.id));
                }
                if lib
                    .card_index
                    .insert(card.id.clone(), lib.cards.len())
                    .is_some()
                {
                    errors.push(format!("{name}: card `{}`: duplicate card id", card.id));
                }
                lib.cards.push(card);
            }
        }
        for facet in &lib.facets {
            if !lib.cards.iter().any(|c| c.facet == facet.id) {
                errors.push(format!("facet `{}` has no card", facet.id));
            }
        }
        if errors.is_empty() {
            Ok(lib)
        } else {
            Err(errors)
        }
    }

    fn check_card(&self, card: &Card) -> Vec<String> {
        let mut e = Vec::new();
        if !valid_id(&card.id) {
            e.push("id must be lowercase a-z 0-9 . _ -".into());
        }
        if card.version == 0 {
            e.push("version starts at 1".into());
        }
        let text_chars = card.text.chars().count();
        if text_chars == 0 || text_chars > MAX_TEXT_CHARS {
            e.push(format!(
                "text is {text_chars} characters; 1 to {MAX_TEXT_CHARS}"
            ));
        }
        for o in &card.options {
            let n = o.label.chars().count();
            if n == 0 || n > MAX_OPTION_CHARS {
                e.push(format!(
                    "option `{}` is {n} characters; 1 to {MAX_OPTION_CHARS}",
                    o.label
                ));
            }
        }
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&card.expected_seconds) {
            e.push(format!(
                "expected_seconds {} outside {MIN_SECONDS}..={MAX_SECONDS}",
                card.expected_seconds
            ));
        }
        let budget = reading_budget(card);
        if budget > card.expected_seconds + 1e-9 {
            e.push(format!(
                "takes about {budget:.1} s to read and answer, more than the {} s it claims",
                card.expected_seconds
            ));
        }
        let placeholder = |p: &str| card.text.contains(p);
        match card.context {
            Some(CardContext::Topic) if !placeholder("{topic}") => {
                e.push("topic card without {topic}".into())
            }
            Some(CardContext::Agent) if !placeholder("{agent}") => {
                e.push("agent card without {agent}".into())
            }
            None if placeholder("{topic}") || placeholder("{agent}") => {
                e.push("placeholder in a card without context".into())
            }
            Some(CardContext::Proposal) if placeholder("{topic}") || placeholder("{agent}") => {
                e.push("placeholder in a proposal card".into())
            }
            Some(CardContext::Proposal) if card.kind != CardKind::ShortText => {
                e.push("a proposal card is a short_text card".into())
            }
            _ => {}
        }
        if let Some(t) = browser_knows(&card.text) {
            e.push(format!(
                "asks about {t}, which the browser knows or which changes no answer"
            ));
        }
        let Some(facet) = self.facet(&card.facet) else {
            e.push(format!(
                "unknown facet `{}` (facets must come before cards)",
                card.facet
            ));
            return e;
        };
        let n_opts = card.options.len();
        match card.kind {
            CardKind::Choice if !(3..=5).contains(&n_opts) => e.push(format!(
                "choice with {n_opts} options; 3 to 5 (a choice between two needs a \
                 neither / depends option)"
            )),
            CardKind::Pairwise if n_opts != 3 => e.push(
                "pairwise needs exactly 3 options: the two sides, then neither / depends".into(),
            ),
            CardKind::Pairwise if !pair_has_neither(facet, &card.options) => e.push(
                "a pairwise card's third option must be neither / depends: a `neither` value, \
                 or on an ordinal facet a value between the two sides"
                    .into(),
            ),
            CardKind::YesNo
                if n_opts != 2
                    || card.options[0].label != "Yes"
                    || card.options[1].label != "No" =>
            {
                e.push("yes_no needs exactly the options \"Yes\" then \"No\"".into())
            }
            CardKind::YesNo if facet.ordinal && !yes_no_at_the_ends(facet, &card.options) => e
                .push(
                    "a yes_no card on an ordinal facet maps Yes and No to its two end values, \
                     never a middle one"
                        .into(),
                ),
            CardKind::Scale => match &card.scale {
                None => e.push("scale card without `scale`".into()),
                Some(s) if !(3..=7).contains(&(s.max - s.min + 1)) => {
                    e.push("scale needs 3 to 7 points".into())
                }
                Some(_) if !facet.ordinal => {
                    e.push("scale card on a facet that is not ordinal".into())
                }
                Some(_) if n_opts != 0 => e.push("scale card with options".into()),
                Some(_) => {}
            },
            CardKind::ShortText if !facet.open => {
                e.push("short_text card on a closed facet".into())
            }
            CardKind::ShortText if n_opts != 0 => e.push("short_text card with options".into()),
            _ => {}
        }
        if facet.open && card.kind != CardKind::ShortText {
            e.push("only short_text cards may ask an open facet".into());
        }
        if card.kind != CardKind::Scale && card.scale.is_some() {
            e.push("`scale` on a card that is not a scale".into());
        }
        for o in &card.options {
            if !facet.values.iter().any(|v| v.id == o.value) {
                e.push(format!(
                    "option `{}` maps to `{}`, not a value of `{}`",
                    o.label, o.value, facet.id
                ));
            }
        }
        let distinct: BTreeSet<_> = card.options.iter().map(|o| o.value.as_str()).collect();
        if distinct.len() != card.options.len() {
            e.push("two options map to the same value".into());
        }
        e
    }

    pub fn facet(&self, id: &str) -> Option<&Facet> {
        self.facet_index.get(id).map(|&i| &self.facets[i])
    }

    pub fn facet_position(&self, id: &str) -> Option<usize> {
        self.facet_index.get(id).copied()
    }

    /// Whether accepted proposals are filed under this facet (a card of it has the
    /// `proposal` context).
    pub fn is_proposal_facet(&self, facet: &str) -> bool {
        self.cards
            .iter()
            .any(|c| c.facet == facet && c.context == Some(CardContext::Proposal))
    }

    pub fn card(&self, id: &str) -> Option<&Card> {
        self.card_index.get(id).map(|&i| &self.cards[i])
    }

    pub fn card_position(&self, id: &str) -> Option<usize> {
        self.card_index.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One dimension file with `facets` and `cards` (JSON arrays) spliced in.
    fn parse(facets: &str, cards: &str) -> Result<Library, Vec<String>> {
        let text =
            format!(r#"{{"dimension": "t", "label": "T", "facets": {facets}, "cards": {cards}}}"#);
        Library::parse(&[("t.json", &text)])
    }

    const LENGTH: &str = r#"[{"id": "t.length", "label": "Length", "node_kind": "preference",
        "ordinal": true, "stability_days": 30, "values": [
        {"id": "brief", "label": "Brief", "says": "Be brief."},
        {"id": "medium", "label": "Medium", "says": "Medium, please."},
        {"id": "detailed", "label": "Detailed", "says": "Be detailed."}]}]"#;

    const FORM: &str = r#"[{"id": "t.form", "label": "Form", "node_kind": "preference",
        "stability_days": 30, "values": [
        {"id": "inline", "label": "Inline", "says": "Comment inline."},
        {"id": "summary", "label": "Summary", "says": "Sum up at the end."},
        {"id": "depends", "label": "Neither / depends", "says": "", "neither": true}]}]"#;

    fn card(kind: &str, facet: &str, options: &[(&str, &str)]) -> String {
        let options: Vec<String> = options
            .iter()
            .map(|(l, v)| format!(r#"{{"label": "{l}", "value": "{v}"}}"#))
            .collect();
        format!(
            r#"[{{"id": "t.card", "version": 1, "type": "{kind}", "facet": "{facet}",
            "text": "Which one?", "options": [{}], "expected_seconds": 5}}]"#,
            options.join(",")
        )
    }

    fn refused(r: Result<Library, Vec<String>>, needle: &str) -> bool {
        match r {
            Ok(_) => false,
            Err(errors) => errors.iter().any(|e| e.contains(needle)),
        }
    }

    #[test]
    fn a_yes_no_card_never_maps_to_a_middle_value_of_an_ordinal_facet() {
        let bad = card(
            "yes_no",
            "t.length",
            &[("Yes", "medium"), ("No", "detailed")],
        );
        assert!(refused(parse(LENGTH, &bad), "never a middle one"));
        let good = card(
            "yes_no",
            "t.length",
            &[("Yes", "brief"), ("No", "detailed")],
        );
        assert!(parse(LENGTH, &good).is_ok());
    }

    #[test]
    fn a_pair_offers_neither_or_depends() {
        let two = card(
            "pairwise",
            "t.form",
            &[("Inline", "inline"), ("Summary", "summary")],
        );
        assert!(refused(parse(FORM, &two), "exactly 3 options"));
        let no_neither = card(
            "pairwise",
            "t.form",
            &[
                ("Inline", "inline"),
                ("Depends", "depends"),
                ("Summary", "summary"),
            ],
        );
        assert!(refused(parse(FORM, &no_neither), "third option"));
        let good = card(
            "pairwise",
            "t.form",
            &[
                ("Inline", "inline"),
                ("Summary", "summary"),
                ("Depends", "depends"),
            ],
        );
        assert!(parse(FORM, &good).is_ok());
        // On an ordinal facet the third option is a value between the two sides.
        let ends = card(
            "pairwise",
            "t.length",
            &[
                ("Brief", "brief"),
                ("Detailed", "detailed"),
                ("Between", "medium"),
            ],
        );
        assert!(parse(LENGTH, &ends).is_ok());
        let outside = card(
            "pairwise",
            "t.length",
            &[
                ("Brief", "brief"),
                ("Medium", "medium"),
                ("Long", "detailed"),
            ],
        );
        assert!(refused(parse(LENGTH, &outside), "third option"));
        // A choice between two is a forced pair too.
        let choice = card(
            "choice",
            "t.form",
            &[("Inline", "inline"), ("Summary", "summary")],
        );
        assert!(refused(parse(FORM, &choice), "3 to 5"));
    }

    #[test]
    fn a_neither_value_only_on_a_facet_that_is_not_ordinal() {
        let facets = LENGTH.replace(
            r#"{"id": "detailed", "label": "Detailed", "says": "Be detailed."}"#,
            r#"{"id": "detailed", "label": "Detailed", "says": "Be detailed."},
               {"id": "depends", "label": "Depends", "says": "", "neither": true}"#,
        );
        let c = card(
            "choice",
            "t.length",
            &[("B", "brief"), ("M", "medium"), ("D", "detailed")],
        );
        assert!(refused(parse(&facets, &c), "`neither` value"));
    }

    #[test]
    fn topics_the_browser_knows_are_refused() {
        let facets = FORM.replace(
            r#""id": "t.form", "label": "Form""#,
            r#""id": "t.timezone", "label": "Where""#,
        );
        let c = card(
            "choice",
            "t.timezone",
            &[("I", "inline"), ("S", "summary"), ("D", "depends")],
        );
        assert!(refused(parse(&facets, &c), "timezone"));
        let text = card(
            "choice",
            "t.form",
            &[("I", "inline"), ("S", "summary"), ("D", "depends")],
        )
        .replace("Which one?", "Which units should answers use?");
        assert!(refused(parse(FORM, &text), "units"));
        assert_eq!(
            browser_knows("Which operating-system do you use?"),
            Some("operating system")
        );
        assert_eq!(browser_knows("Answer in community terms"), None);
    }

    #[test]
    fn the_builtin_library_passes_its_own_rules() {
        let lib = crate::cards::builtin();
        assert!(lib.facets.iter().all(|f| browser_knows(&f.id).is_none()));
        assert!(lib.card("constraints.timezone.region").is_none());
    }
}
