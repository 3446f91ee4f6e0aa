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

#[cfg(test)]
mod tests {
    use super::*;

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
