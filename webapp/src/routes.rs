//! The app's views, one path each (`/overview`, `/graph`, ...). The server answers every
//! unknown path with `index.html`, so a reload or a bookmark lands on the same view.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Overview,
    Graph,
    Timeline,
    Data,
    Export,
    Proposals,
    Settings,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Overview,
        View::Graph,
        View::Timeline,
        View::Data,
        View::Export,
        View::Proposals,
        View::Settings,
    ];

    /// The id used in paths, `data-view` attributes and element ids.
    pub fn id(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Graph => "graph",
            View::Timeline => "timeline",
            View::Data => "data",
            View::Export => "export",
            View::Proposals => "proposals",
            View::Settings => "settings",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Graph => "Graph",
            View::Timeline => "Timeline",
            View::Data => "Data",
            View::Export => "Export",
            View::Proposals => "Proposals",
            View::Settings => "Settings",
        }
    }

    pub fn path(self) -> String {
        format!("/{}", self.id())
    }

    /// The view a path names; anything else (`/`, unknown) is the overview.
    pub fn from_path(path: &str) -> View {
        let first = path.trim_start_matches('/').split(['/', '?', '#']).next();
        View::ALL
            .into_iter()
            .find(|v| Some(v.id()) == first)
            .unwrap_or(View::Overview)
    }
}

/// The `user` parameter of a query string (`?user=ada&x=1` -> `ada`), percent-decoded, kept
/// only when it is a plausible username (1 to 64 characters, no control characters).
pub fn user_param(search: &str) -> Option<String> {
    let query = search.strip_prefix('?').unwrap_or(search);
    let raw = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("user="))?;
    let bytes = raw.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let name = String::from_utf8(out).ok()?;
    let name = name.trim();
    (!name.is_empty() && name.chars().count() <= 64 && !name.chars().any(char::is_control))
        .then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_username_comes_from_the_address() {
        assert_eq!(user_param("?user=ada").as_deref(), Some("ada"));
        assert_eq!(
            user_param("?x=1&user=ada%20l&y=2").as_deref(),
            Some("ada l")
        );
        assert_eq!(user_param("user=b%C3%A9a").as_deref(), Some("béa"));
        assert_eq!(user_param("?user="), None);
        assert_eq!(user_param("?user=%0A"), None);
        assert_eq!(user_param("?user=%zz"), None);
        assert_eq!(user_param(""), None);
        assert_eq!(user_param(&format!("?user={}", "a".repeat(65))), None);
    }

    #[test]
    fn paths_round_trip() {
        for v in View::ALL {
            assert_eq!(View::from_path(&v.path()), v);
        }
        assert_eq!(View::from_path("/"), View::Overview);
        assert_eq!(View::from_path("/graph?node=x"), View::Graph);
        assert_eq!(View::from_path("/nope"), View::Overview);
    }
}
