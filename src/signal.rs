//! The shutdown signal of every daemon: the first Ctrl-C or SIGTERM starts
//! a graceful drain; a second one, or [`SHUTDOWN_DEADLINE`] passing, exits
//! at once.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

/// How long a daemon may drain after the first signal before it exits
/// anyway. Above the crawler's own drain timeout
/// ([`crawler::config::DEFAULT_DRAIN_TIMEOUT`]), after which it gives its unfinished
/// links back, so that a crawler gives them back before this cuts it off;
/// below the 30 s an orchestrator (Kubernetes' default grace period) waits
/// before it kills the process.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(25);

/// Exit status of a daemon made to stop by a second signal (128 + SIGINT,
/// as a shell reports an interrupted program).
const EXIT_INTERRUPTED: i32 = 130;
/// Exit status of a daemon whose drain outlasted [`SHUTDOWN_DEADLINE`].
const EXIT_DRAIN_TOO_LONG: i32 = 1;

/// Returns a token cancelled on the first Ctrl-C or SIGTERM.
pub fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        warn!(
            deadline_secs = SHUTDOWN_DEADLINE.as_secs(),
            "shutdown requested: draining (send again to exit at once)"
        );
        cancel.cancel();
        tokio::select! {
            () = wait_for_signal() => {
                warn!("second signal: exiting without draining");
                std::process::exit(EXIT_INTERRUPTED);
            }
            () = tokio::time::sleep(SHUTDOWN_DEADLINE) => {
                error!(
                    deadline_secs = SHUTDOWN_DEADLINE.as_secs(),
                    "drain took too long: exiting without finishing it"
                );
                std::process::exit(EXIT_DRAIN_TOO_LONG);
            }
        }
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
