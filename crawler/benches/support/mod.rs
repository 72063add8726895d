//! What the crawler's Redis benchmarks share: the server they measure
//! against and the cleanup of their keys.

/// TRAWL_BENCH_REDIS, default the local Redis.
pub fn redis_url() -> String {
    std::env::var("TRAWL_BENCH_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

pub async fn connection() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Redis's `used_memory`, in bytes.
pub async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

/// Deletes every key of a frontier prefix (they all start `{prefix:`).
pub async fn delete_prefix(prefix: &str) {
    let mut conn = connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    for chunk in keys.chunks(1000) {
        let _: () = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await.unwrap();
    }
}
