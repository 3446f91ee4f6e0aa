//! `selfos mcp --print-config CLIENT`: the exact snippet that makes an MCP client start this
//! binary with the flags given, so people copy it rather than write JSON by hand. The
//! passphrase stays in its file: the snippet names the file, never its content.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{McpArgs, Source};
use crate::cli::CliError;

/// The MCP clients SelfOS prints a configuration for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Claude Desktop: `claude_desktop_config.json`'s `mcpServers`.
    ClaudeDesktop,
    /// Claude Code: the `claude mcp add` command.
    ClaudeCode,
    /// Cursor: `.cursor/mcp.json`'s `mcpServers`.
    Cursor,
}

/// `--print-config`'s value.
pub fn parse_client(s: &str) -> Result<Client, String> {
    match s {
        "claude-desktop" => Ok(Client::ClaudeDesktop),
        "claude-code" => Ok(Client::ClaudeCode),
        "cursor" => Ok(Client::Cursor),
        other => Err(format!(
            "unknown client `{other}`: give claude-desktop, claude-code or cursor"
        )),
    }
}

/// A path as the client will see it: absolute (clients start servers from their own
/// working directory).
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The command and arguments that start `selfos mcp` with the given source.
pub fn command(args: &McpArgs) -> Result<(String, Vec<String>), CliError> {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "selfos".into());
    let mut argv = vec!["mcp".to_owned()];
    match args.source()? {
        Source::Remote(r) => {
            argv.extend([
                "--server".into(),
                r.server,
                "--user".into(),
                r.user,
                "--passphrase-file".into(),
                absolute(&r.passphrase_file).display().to_string(),
            ]);
        }
        Source::Backup { file, passphrase } => {
            argv.extend([
                "--backup".into(),
                absolute(&file).display().to_string(),
                "--passphrase-file".into(),
                absolute(&passphrase).display().to_string(),
            ]);
        }
    }
    Ok((exe, argv))
}

/// Quotes a word for a POSIX shell when it needs it.
fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@+,".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The snippet for `client`.
pub fn snippet(client: Client, args: &McpArgs) -> Result<String, CliError> {
    let (exe, argv) = command(args)?;
    Ok(match client {
        Client::ClaudeDesktop | Client::Cursor => {
            let config = json!({ "mcpServers": { "selfos": { "command": exe, "args": argv } } });
            serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?
        }
        Client::ClaudeCode => {
            let words: Vec<String> = std::iter::once(exe)
                .chain(argv)
                .map(|w| sh_quote(&w))
                .collect();
            format!("claude mcp add selfos -- {}", words.join(" "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> McpArgs {
        McpArgs {
            server: Some("http://127.0.0.1:8787".into()),
            user: Some("me".into()),
            passphrase_file: Some("/home/me/.selfos pass".into()),
            backup: None,
            pull_every: 60,
            print_config: None,
        }
    }

    #[test]
    fn json_clients_get_mcp_servers() {
        let s = snippet(Client::Cursor, &args()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        let a = &v["mcpServers"]["selfos"]["args"];
        assert_eq!(a[0], "mcp");
        assert_eq!(a[2], "http://127.0.0.1:8787");
        assert_eq!(a[6], "/home/me/.selfos pass");
    }

    #[test]
    fn claude_code_gets_a_quoted_command() {
        let s = snippet(Client::ClaudeCode, &args()).unwrap();
        assert!(s.starts_with("claude mcp add selfos -- "), "{s}");
        assert!(
            s.ends_with("mcp --server http://127.0.0.1:8787 --user me --passphrase-file '/home/me/.selfos pass'"),
            "{s}"
        );
    }

    #[test]
    fn a_missing_account_is_a_usage_error() {
        let mut a = args();
        a.user = None;
        assert!(matches!(
            snippet(Client::ClaudeDesktop, &a),
            Err(CliError::Usage(_))
        ));
    }
}
