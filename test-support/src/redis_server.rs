//! Redis for tests: key prefixes of their own on the shared server, and
//! private servers (on a port of their own) that a test may kill and
//! restart, with or without persistence.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn shared_redis_url() -> String {
    std::env::var("TRAWL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A key prefix no other test or run shares.
pub fn unique_prefix(name: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("trawl-test-{name}-{}-{nanos}", std::process::id())
}

/// Deletes every key of `prefix` (the frontier's keys all start `{prefix:`).
pub async fn delete_keys(url: &str, prefix: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    for chunk in keys.chunks(500) {
        let _: () = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await.unwrap();
    }
}

/// The URLs leased in the frontier `{prefix}` at `url`, each with the
/// worker holding it (a worker's id carries its process id: `-{pid}-`).
pub async fn leases(url: &str, prefix: &str) -> Vec<(String, String)> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}:*}}:leased"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut leases = Vec::new();
    for key in keys {
        let entries: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        for (url, state) in entries {
            // token \t released \t host \t worker
            let worker = state.rsplit('\t').next().unwrap_or_default().to_string();
            leases.push((url, worker));
        }
    }
    leases
}

/// Deletes every key of a prefix on the shared Redis when dropped, also
/// when the test fails.
pub struct RedisTearDown(pub String);

impl Drop for RedisTearDown {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(shared_redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{{{}:*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query(&mut conn);
        }
    }
}

/// Whether Redis keeps its data in an append-only file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// `appendonly yes`, `appendfsync everysec`: as `scripts/setup` runs it.
    AppendOnly,
    /// Nothing on disk: a restart comes back empty.
    None,
}

/// A redis-server of the test's own.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    persistence: Persistence,
    process: Option<std::process::Child>,
}

impl PrivateRedis {
    pub async fn start(persistence: Persistence) -> PrivateRedis {
        let mut redis = PrivateRedis {
            port: crate::daemons::free_port(),
            dir: tempfile::tempdir().unwrap(),
            persistence,
            process: None,
        };
        redis.spawn().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    async fn spawn(&mut self) {
        let aof = match self.persistence {
            Persistence::AppendOnly => ["--appendonly", "yes", "--appendfsync", "everysec"],
            Persistence::None => ["--appendonly", "no", "--appendfsync", "everysec"],
        };
        let process = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(aof)
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/setup)");
        self.process = Some(process);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..100 {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// SIGKILL, then a new server on the same port and directory: what its
    /// append-only file holds (if any) is all that survives.
    pub async fn kill_and_restart(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
        self.spawn().await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}
