//! The MCP handler: routes `tools/*` and `resources/*` requests to the [`Profile`], off the
//! async runtime (the vault and the sync client are blocking), and turns outcomes into the
//! protocol's two kinds of failure: a request that cannot be served as asked (unknown tool,
//! arguments outside the schema, an oversized statement) is a protocol error; a call that
//! ran but could not do everything (the sync server is down) is an error *result* the model
//! reads, and the process keeps serving.

use std::collections::BTreeMap;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeRequestParams, InitializeResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::json;
use vault_core::delivery::{DeliveryMethod, DeliveryRecord};
use vault_core::graph::context::ContextError;
use vault_core::proposal::{ProposalRecord, ProposalStatus, MAX_STATEMENT_CHARS};
use vault_core::record::EntryKind;
use vault_core::Namespace;

use super::profile::{Freshness, Profile};
use super::tools::{self, GetProfile, ProposeFact, SearchProfile};
use super::worker::{Opening, ProfileWorker};
use crate::cli::CliError;

/// The resource template of the profile per agent.
pub const PROFILE_URI_PREFIX: &str = "selfos://profile/";

/// The agent namespace for an MCP client that is none of the known agents.
pub const GENERIC_AGENT: &str = "mcp";

/// What the server tells the client in `initialize`.
const INSTRUCTIONS: &str = "SelfOS holds the user's own profile: who they are and how they like answers, from their answers in SelfOS. Call get_profile at the start of a task and follow it; search_profile checks one thing; propose_fact suggests something you learned (the user approves it).";

/// The known agent an MCP client is (by the name it gives in `initialize`), else the
/// generic one: Claude Desktop and Claude Code say "claude-ai" / "claude-code", so the
/// profile they get is Claude's, per-agent wishes included.
pub fn agent_for_client(client_name: &str) -> &'static str {
    let name = client_name.to_ascii_lowercase();
    if name.contains("claude") {
        "claude"
    } else if name.contains("chatgpt") || name.contains("openai") || name.contains("codex") {
        "chatgpt"
    } else if name.contains("gemini") {
        "gemini"
    } else {
        GENERIC_AGENT
    }
}

/// The handler. The profile lives on its own thread ([`ProfileWorker`]): calls are served
/// one at a time, which is what a single user's agent needs.
#[derive(Clone)]
pub struct SelfosMcp {
    profile: ProfileWorker,
    /// Becomes true once the vault is open: `initialize` waits for it.
    open: tokio::sync::watch::Receiver<bool>,
}

/// Serves MCP on stdio until the client closes the connection. The session starts while the
/// vault is still opening (the client's `initialize` is read meanwhile and answered once it
/// is open), so the handshake costs no time on top of the sign-in and the pull. If the vault
/// does not open, the session is dropped before anything is written to stdout.
pub async fn serve(profile: ProfileWorker, opening: Opening) -> Result<(), CliError> {
    let (opened, open) = tokio::sync::watch::channel(false);
    let handler = SelfosMcp {
        profile: profile.clone(),
        open,
    };
    let session = tokio::spawn(async move {
        let running = handler
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| format!("the MCP session did not start: {e}"))?;
        running
            .waiting()
            .await
            .map_err(|e| format!("the MCP session failed: {e}"))?;
        Ok::<(), CliError>(())
    });
    let waited = tokio::task::spawn_blocking(move || opening.wait())
        .await
        .map_err(|e| format!("the vault thread failed: {e}"))?;
    if let Err(e) = waited {
        session.abort();
        return Err(e);
    }
    let _ = opened.send(true);
    let served = session
        .await
        .map_err(|e| format!("the MCP session failed: {e}"))?;
    // The last answer's deliveries are pushed after it was sent: wait for that before the
    // process ends (a job runs after every job sent before it).
    let _ = profile.run(|_| Ok(())).await;
    served
}

fn text_result(
    texts: Vec<String>,
    structured: serde_json::Value,
    is_error: bool,
) -> CallToolResult {
    let content: Vec<ContentBlock> = texts.into_iter().map(ContentBlock::text).collect();
    let mut r = if is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    r.structured_content = Some(structured);
    r
}

/// The agent a call is for: the one named, else the client's.
fn agent_of(named: Option<&str>, context: &RequestContext<RoleServer>) -> Result<String, McpError> {
    let agent = match named.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => a.to_ascii_lowercase(),
        None => {
            let client = context
                .peer
                .peer_info()
                .map(|info| info.client_info.name.clone())
                .unwrap_or_default();
            agent_for_client(&client).to_owned()
        }
    };
    match Namespace::new(&agent) {
        Ok(ns) if ns.kind() == EntryKind::Answer => Ok(agent),
        _ => Err(McpError::invalid_params(
            format!("unknown agent `{agent}`: use a name such as claude, chatgpt or gemini (lowercase letters, digits, `.:_-`)"),
            None,
        )),
    }
}

fn internal(e: impl std::fmt::Display) -> McpError {
    McpError::internal_error(e.to_string(), None)
}

impl SelfosMcp {
    /// Runs `f` on the profile's thread.
    async fn with_profile<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Profile) -> Result<T, McpError> + Send + 'static,
    ) -> Result<T, McpError> {
        self.profile.run(f).await
    }

    async fn get_profile(
        &self,
        args: GetProfile,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let budget = args.budget()?;
        let agent = agent_of(args.agent.as_deref(), context)?;
        let topic = args.topic.clone();
        self.with_profile(move |p| {
            let fresh = p.refresh();
            match p.block(&agent, topic.as_deref(), budget) {
                Ok(block) => {
                    p.deliver(&Profile::delivery_of(&block).map_err(internal)?)
                        .map_err(internal)?;
                    let structured = json!({
                        "agent": block.agent,
                        "name": block.name,
                        "text": block.text,
                        "facts": block.facts.iter().map(|f| json!({
                            "node": f.node, "sentence": f.sentence, "strength": f.strength,
                        })).collect::<Vec<_>>(),
                        "left_out": block.left_out,
                        "profile_as_of_ms": p.pulled_at_ms(),
                    });
                    Ok(with_freshness(&fresh, vec![block.text], structured))
                }
                Err(ContextError::BadAgent(a)) => Err(McpError::invalid_params(
                    ContextError::BadAgent(a).to_string(),
                    None,
                )),
                Err(e @ ContextError::NothingKnown(_)) => Ok(with_freshness(
                    &fresh,
                    vec![e.to_string()],
                    json!({"agent": agent, "facts": [], "text": ""}),
                )),
                Err(e @ ContextError::BudgetTooSmall { .. }) => Ok(text_result(
                    vec![e.to_string()],
                    json!({"agent": agent, "error": "budget"}),
                    true,
                )),
            }
        })
        .await
    }

    async fn search_profile(
        &self,
        args: SearchProfile,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let query = args.check()?.to_owned();
        let agent = agent_of(None, context)?;
        self.with_profile(move |p| {
            let fresh = p.refresh();
            let hits = p.search(&query);
            let text = if hits.is_empty() {
                format!("No fact in the profile matches \"{query}\".")
            } else {
                hits.iter()
                    .map(|h| {
                        format!(
                            "- [{}] {}{} (strength {:.2}, {} answers)",
                            h.dimension,
                            h.sentence.as_deref().unwrap_or(&h.label),
                            h.agent
                                .as_deref()
                                .map(|a| format!(" (for {a})"))
                                .unwrap_or_default(),
                            h.strength,
                            h.evidence
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            if !hits.is_empty() {
                let nodes: BTreeMap<String, f64> = hits
                    .iter()
                    .map(|h| (h.node.clone(), h.strength.clamp(0.0, 1.0)))
                    .collect();
                let delivery = DeliveryRecord::of_text(
                    &agent,
                    &text,
                    nodes,
                    DeliveryMethod::Mcp,
                    vault_core::time::now_ms(),
                    None,
                )
                .map_err(internal)?;
                p.deliver(&delivery).map_err(internal)?;
            }
            let structured = json!({ "query": query, "facts": hits });
            Ok(with_freshness(&fresh, vec![text], structured))
        })
        .await
    }

    async fn propose_fact(
        &self,
        args: ProposeFact,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let len = args.statement.trim().chars().count();
        if len == 0 || len > MAX_STATEMENT_CHARS {
            return Err(McpError::invalid_params(
                format!("propose_fact: the statement is {len} characters; give 1 to {MAX_STATEMENT_CHARS} (one fact, in the user's first person)"),
                None,
            ));
        }
        let agent = agent_of(None, context)?;
        let proposal = ProposalRecord::new(
            &agent,
            &args.statement,
            args.dimension,
            args.reason,
            vault_core::time::now_ms(),
        )
        .map_err(|e| McpError::invalid_params(format!("propose_fact: {e}"), None))?;
        self.with_profile(move |p| {
            let fresh = p.refresh();
            if let Some(earlier) = p.propose(&proposal).map_err(internal)? {
                let said = match earlier.status {
                    ProposalStatus::Rejected => "It was already rejected by the user: do not propose it again.",
                    ProposalStatus::Accepted => "The user already accepted it: it is part of the profile.",
                    ProposalStatus::Pending => "It is already waiting for the user's decision.",
                };
                let structured = json!({"id": earlier.id.to_string(), "status": earlier.status.as_str(), "duplicate": true});
                return Ok(with_freshness(
                    &fresh,
                    vec![format!("Not stored: you proposed this before. {said}")],
                    structured,
                ));
            }
            let pushed = p.push();
            let structured = json!({"id": proposal.id.to_string(), "status": "pending", "synced": pushed.is_ok() });
            match (pushed, p.is_remote()) {
                (Err(why), _) => Ok(text_result(
                    vec![format!("The SelfOS sync server is unreachable ({why}): the proposal is kept by this SelfOS process and sent when the server is back. The profile shown is from {} UTC.", super::profile::hh_mm(p.pulled_at_ms()))],
                    structured,
                    true,
                )),
                (Ok(()), remote) => Ok(with_freshness(
                    &fresh,
                    vec![format!(
                        "Proposed{}. The user will accept, edit or reject it in SelfOS; it is not part of the profile until then.",
                        if remote { " and saved (encrypted)" } else { " (kept in memory: serving a backup file)" }
                    )],
                    structured,
                )),
            }
        })
        .await
    }
}

/// A result that carries the answer, and, when the profile could not be refreshed, says so
/// first and is marked as an error (the model should tell the user the profile may be old).
fn with_freshness(
    fresh: &Freshness,
    mut texts: Vec<String>,
    structured: serde_json::Value,
) -> CallToolResult {
    match fresh.warning() {
        None => text_result(texts, structured, false),
        Some(w) => {
            texts.insert(0, w);
            text_result(texts, structured, true)
        }
    }
}

impl ServerHandler for SelfosMcp {
    /// Answers once the vault is open (the session starts while it opens).
    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        let mut open = self.open.clone();
        open.wait_for(|open| *open)
            .await
            .map_err(|_| McpError::internal_error("the vault did not open", None))?;
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("selfos", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.as_ref();
        let result = match name {
            tools::GET_PROFILE => {
                let args = tools::parse(name, request.arguments)?;
                self.get_profile(args, &context).await?
            }
            tools::SEARCH_PROFILE => {
                let args = tools::parse(name, request.arguments)?;
                self.search_profile(args, &context).await?
            }
            tools::PROPOSE_FACT => {
                let args = tools::parse(name, request.arguments)?;
                self.propose_fact(args, &context).await?
            }
            other => {
                return Err(McpError::invalid_params(
                    format!(
                        "unknown tool `{other}`: the tools are {}, {} and {}",
                        tools::GET_PROFILE,
                        tools::SEARCH_PROFILE,
                        tools::PROPOSE_FACT
                    ),
                    None,
                ))
            }
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let mine = agent_of(None, &context)?;
        let mut agents = vec![mine];
        for a in vault_core::agents::AGENTS {
            if !agents.iter().any(|x| x == a.id) {
                agents.push(a.id.to_owned());
            }
        }
        let resources = agents
            .into_iter()
            .map(|a| {
                Resource::new(format!("{PROFILE_URI_PREFIX}{a}"), format!("profile-{a}"))
                    .with_description(format!(
                        "What {} is told about the user",
                        vault_core::agents::display_name(&a)
                    ))
                    .with_mime_type("text/plain")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let mut t = ResourceTemplate::new(format!("{PROFILE_URI_PREFIX}{{agent}}"), "profile");
        t.title = Some("The user's profile for an agent".into());
        t.description = Some("The same context block get_profile returns, for the agent named in the URI (claude, chatgpt, gemini, ...).".into());
        t.mime_type = Some("text/plain".into());
        Ok(ListResourceTemplatesResult::with_all_items(vec![t]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri;
        let agent = uri.strip_prefix(PROFILE_URI_PREFIX).ok_or_else(|| {
            McpError::resource_not_found(
                format!("no resource `{uri}`: SelfOS serves {PROFILE_URI_PREFIX}{{agent}}"),
                None,
            )
        })?;
        let agent = agent_of(Some(agent), &context)?;
        let text = self
            .with_profile(move |p| {
                let fresh = p.refresh();
                let block = p
                    .block(&agent, None, tools::DEFAULT_MAX_CHARS)
                    .map_err(|e| McpError::resource_not_found(e.to_string(), None))?;
                p.deliver(&Profile::delivery_of(&block).map_err(internal)?)
                    .map_err(internal)?;
                Ok(match fresh.warning() {
                    None => block.text,
                    Some(w) => format!("{w}\n\n{}", block.text),
                })
            })
            .await?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri)]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_map_to_their_agent_or_the_generic_one() {
        assert_eq!(agent_for_client("claude-ai"), "claude");
        assert_eq!(agent_for_client("Claude Code"), "claude");
        assert_eq!(agent_for_client("openai-codex"), "chatgpt");
        assert_eq!(agent_for_client("gemini-cli"), "gemini");
        assert_eq!(agent_for_client("Cursor"), GENERIC_AGENT);
        assert_eq!(agent_for_client(""), GENERIC_AGENT);
    }

    #[test]
    fn a_stale_profile_says_since_when() {
        let stale = Freshness::Stale {
            since_ms: 1_763_900_000_000 + 3_600_000,
            why: "cannot connect".into(),
        };
        let w = stale.warning().unwrap();
        assert!(w.contains("unreachable (cannot connect)"), "{w}");
        assert!(
            w.contains(&super::super::profile::hh_mm(1_763_903_600_000)),
            "{w}"
        );
        assert_eq!(Freshness::Fresh.warning(), None);
        assert_eq!(super::super::profile::hh_mm(0), "00:00");
        assert_eq!(
            super::super::profile::hh_mm(13 * 3_600_000 + 5 * 60_000),
            "13:05"
        );
    }
}
