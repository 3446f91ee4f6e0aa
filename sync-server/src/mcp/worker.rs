//! The thread that owns the [`Profile`]. The vault's in-memory store is single-threaded
//! (`Rc`, shared with the browsers' single-threaded builds) and the sync client blocks, so
//! the profile lives on one plain thread and the async MCP handler sends it jobs. Jobs run
//! one at a time, in order, which also keeps the vault's writes ordered.

use std::sync::mpsc;
use std::time::Duration;

use rmcp::ErrorData as McpError;

use super::profile::Profile;
use super::Source;
use crate::cli::CliError;

type Job = Box<dyn FnOnce(&mut Profile) + Send>;

/// A handle to the profile's thread.
#[derive(Clone)]
pub struct ProfileWorker {
    jobs: mpsc::Sender<Job>,
}

/// The opening under way on the profile's thread: [`Opening::wait`] says how it ended.
pub struct Opening(mpsc::Receiver<Result<(), CliError>>);

impl Opening {
    /// Blocks until the vault is open, or returns why it could not be opened (a wrong
    /// passphrase, an unreachable server); the thread then ends.
    pub fn wait(self) -> Result<(), CliError> {
        self.0
            .recv()
            .map_err(|_| CliError::Failed("the vault thread stopped while opening".into()))?
    }
}

impl ProfileWorker {
    /// Starts opening the vault on a new thread and returns at once, so that the protocol
    /// can start meanwhile. Jobs sent before the vault is open wait for it, in order.
    pub fn start(source: Source, pull_every: Duration) -> Result<(Self, Opening), CliError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, opened) = mpsc::channel::<Result<(), CliError>>();
        std::thread::Builder::new()
            .name("selfos-mcp-vault".into())
            .spawn(move || match Profile::open(&source, pull_every) {
                Ok(mut profile) => {
                    let _ = ready.send(Ok(()));
                    for job in inbox {
                        job(&mut profile);
                        // The job has sent its answer: the agent does not wait for this.
                        profile.push_deliveries();
                    }
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|e| format!("cannot start the vault thread: {e}"))?;
        Ok((ProfileWorker { jobs }, Opening(opened)))
    }

    /// Runs `f` on the profile and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Profile) -> Result<T, McpError> + Send + 'static,
    ) -> Result<T, McpError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |p| {
                let _ = reply.send(f(p));
            }))
            .map_err(|_| McpError::internal_error("the vault thread has stopped", None))?;
        answer
            .await
            .map_err(|_| McpError::internal_error("the vault thread dropped the call", None))?
    }
}
