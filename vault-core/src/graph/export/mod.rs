//! Exports of the knowledge graph. Each returns bytes or text and leaves files to the
//! caller (the web app offers downloads, the command line writes to disk).
//!
//! - [`markdown`]: an Obsidian-style vault, one note per node, `[[wikilinks]]` between
//!   linked nodes, evidence listed; [`zip`] packs it into one file.
//! - [`graphml`]: GraphML 1.0 for Gephi, yEd, networkx.
//! - [`jgf`]: JSON Graph Format v2.
//! - [`instructions`]: custom-instruction text per agent, within each agent's field limits
//!   ([`agents`] holds the table).

pub mod agents;
pub mod format;
pub mod graphml;
pub mod instructions;
pub mod jgf;
pub mod markdown;
pub mod zip;

pub use agents::{AgentProfile, FieldSpec, Section, AGENT_PROFILES};
pub use format::ExportFormat;
pub use instructions::{AgentInstructions, InstructionField};

/// Characters that are not allowed in XML 1.0 (C0 controls other than tab, LF, CR, and the
/// non-characters U+FFFE/U+FFFF) are dropped; markup characters are escaped.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}\u{7}\td"),
            "a&lt;b&gt;&amp;&quot;c&apos;\td"
        );
    }
}
