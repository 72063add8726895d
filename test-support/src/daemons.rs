//! Running the `trawl` binary in tests: one-off commands with a deadline,
//! and daemons (`trawl index`, `trawl docs`, `trawl serve`, crawler
//! workers) that can be killed, stopped and started again on the same data
//! directory.
//!
//! The binary's path comes from the test (`env!("CARGO_BIN_EXE_trawl")`,
//! which only the root package's tests know).

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// A generous bound on anything a test waits for: a hang fails the test,
/// it is never a measure of speed.
pub const DEADLINE: Duration = Duration::from_secs(180);

/// Awaits `future`, failing the test after [`DEADLINE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {DEADLINE:?}"))
}

/// A port nothing listens on now, for a daemon that binds it later.
///
/// Picked in 10000-19999, below the kernel's ephemeral range (32768 and
/// up by default): a port the kernel handed out (`bind(0)`, or the local
/// end of any outgoing connection, which every crawl and client makes by
/// the hundred) could be taken again by another socket before the daemon
/// binds it. Here only explicit binds compete, and within this process no
/// port is handed out twice. `deploy/local.sh` picks in 20000-32767, so a
/// test and the script it runs never pick the same port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 10_000;
    const COUNT: u32 = 10_000;
    // Each process starts at its own place, so that two test binaries run
    // side by side (nextest) do not walk the same ports in step.
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % COUNT,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..COUNT {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % COUNT) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + COUNT)
}

/// `trawl ARGS`, quiet unless `TRAWL_TEST_LOG` is set, its stderr piped
/// (see [`finish`]), killed when dropped. `failpoint` arms a crash point
/// (`common::failpoint`).
pub fn trawl(bin: &str, args: &[String], failpoint: Option<&str>) -> Command {
    let mut command = Command::new(bin);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("TRAWL_FAILPOINTS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if std::env::var_os("TRAWL_TEST_LOG").is_some() {
        command.env("RUST_LOG", "info");
    }
    if let Some(failpoint) = failpoint {
        command.env("TRAWL_FAILPOINTS", failpoint);
    }
    command
}

/// What `trawl ARGS` prints on stdout (a report: `trawl status`); it must
/// succeed.
pub fn trawl_says(bin: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(bin).args(args).output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "trawl {args:?} failed: {said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    said
}

/// Runs `command` to its end (within the deadline); returns its status and
/// its stderr.
pub async fn finish(mut command: Command) -> (ExitStatus, String) {
    let mut child = command.spawn().unwrap();
    let stderr = collect_stderr(&mut child);
    let status = within("trawl to end", child.wait()).await.unwrap();
    (status, stderr.await.unwrap())
}

fn collect_stderr(child: &mut Child) -> tokio::task::JoinHandle<String> {
    let stderr = child.stderr.take();
    tokio::spawn(async move {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text).await;
        }
        if std::env::var_os("TRAWL_TEST_LOG").is_some() {
            eprint!("{text}");
        }
        text
    })
}

/// Asserts that a run armed with `point=n` died there, of SIGKILL: so no
/// fault case passes without exercising its point.
pub fn assert_killed_at(status: ExitStatus, stderr: &str, point: &str, n: u64) {
    assert_eq!(
        status.signal(),
        Some(9),
        "{point}={n}: the process was not killed there ({status}): the case proves nothing\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("failpoint {point}: hit {n},")),
        "{point}={n}: killed elsewhere?\n{stderr}"
    );
}

/// A daemon, its data directory, and where it listens.
pub struct Daemon {
    name: String,
    args: Vec<String>,
    bin: String,
    pub dir: PathBuf,
    pub listen: String,
    child: Option<Child>,
    stderr: Option<tokio::task::JoinHandle<String>>,
}

impl Daemon {
    /// Starts `trawl ARGS --data-dir DIR --listen 127.0.0.1:PORT`.
    pub fn start(bin: &str, name: &str, args: &[String], dir: &Path) -> Daemon {
        let mut daemon = Daemon {
            name: name.to_string(),
            args: args.to_vec(),
            bin: bin.to_string(),
            dir: dir.to_path_buf(),
            listen: format!("127.0.0.1:{}", free_port()),
            child: None,
            stderr: None,
        };
        daemon.spawn(None);
        daemon
    }

    fn spawn(&mut self, failpoint: Option<&str>) {
        let mut args = self.args.clone();
        args.extend([
            "--listen".to_string(),
            self.listen.clone(),
            "--data-dir".to_string(),
        ]);
        args.push(self.dir.display().to_string());
        let mut child = trawl(&self.bin, &args, failpoint).spawn().unwrap();
        self.stderr = Some(collect_stderr(&mut child));
        self.child = Some(child);
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.listen)
    }

    /// Starts it again on the same data directory and address, armed with
    /// `failpoint` if given.
    pub fn restart(&mut self, failpoint: Option<&str>) {
        assert!(self.child.is_none(), "{} still runs", self.name);
        self.spawn(failpoint);
    }

    /// SIGKILL.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Waits for it to die of a crash point it was armed with.
    pub async fn killed_at(&mut self, point: &str, n: u64) {
        let mut child = self.child.take().expect("running");
        let status = within(&format!("{} to reach {point}={n}", self.name), child.wait())
            .await
            .unwrap();
        let stderr = self.stderr.take().unwrap().await.unwrap();
        assert_killed_at(status, &stderr, point, n);
    }

    /// SIGTERM: it must drain and exit cleanly.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().expect("running").to_string();
        let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        let status = within(&format!("{} to stop", self.name), child.wait())
            .await
            .unwrap();
        let stderr = self.stderr.take().unwrap().await.unwrap();
        assert!(
            status.success(),
            "{} did not stop cleanly: {status}\n{stderr}",
            self.name
        );
    }

    /// Waits until its `/healthz` answers.
    pub async fn healthy(&self) {
        let url = format!("{}/healthz", self.base());
        within(&format!("{} /healthz", self.name), async {
            loop {
                if let Ok(response) = reqwest::get(&url).await
                    && response.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
    }
}
