//! How long a host rests between two requests, and how many requests one
//! IP address takes at once.
//!
//! The frontier keeps each host's clock (and at most `--per-host` requests
//! in flight per host); this module decides the delay it is set to after
//! each fetch, and limits requests per IP address, since many host names
//! can share one server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone)]
pub struct PolitenessConfig {
    /// The least time between two requests to a host (`--delay-ms`).
    pub min_delay: Duration,
    /// The delay is at least this many times the host's last response
    /// time, so a host that slows down is asked less often.
    pub response_time_factor: f64,
    /// `Crawl-delay` from robots.txt is honoured up to this.
    pub max_crawl_delay: Duration,
    /// The rest a slow response (or one that never came) earns is capped
    /// at this: one tarpit URL must not hold its host for minutes.
    pub max_slow_rest: Duration,
    /// Back-off after a 429 or 503 that names no `Retry-After`.
    pub default_backoff: Duration,
    /// `Retry-After` is honoured up to this.
    pub max_backoff: Duration,
    /// Requests in flight to one IP address at once.
    pub max_in_flight_per_ip: usize,
}

impl Default for PolitenessConfig {
    fn default() -> Self {
        PolitenessConfig {
            min_delay: Duration::from_secs(1),
            response_time_factor: 1.0,
            max_crawl_delay: Duration::from_secs(30),
            max_slow_rest: Duration::from_secs(10),
            default_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(3600),
            max_in_flight_per_ip: 4,
        }
    }
}

impl PolitenessConfig {
    /// The rest a host gets after a fetch that took `response_time`.
    pub fn delay_after(&self, response_time: Duration, crawl_delay: Option<Duration>) -> Duration {
        let slow = response_time
            .mul_f64(self.response_time_factor.max(0.0))
            .min(self.max_slow_rest);
        let asked = crawl_delay.unwrap_or_default().min(self.max_crawl_delay);
        self.min_delay.max(slow).max(asked)
    }

    /// The rest a host gets after it answered 429 or 503.
    pub fn backoff(&self, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or(self.default_backoff)
            .min(self.max_backoff)
            .max(self.min_delay)
    }
}

/// Limits requests in flight per IP address, across all hosts.
pub struct IpLimiter {
    per_ip: usize,
    slots: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
}

impl IpLimiter {
    pub fn new(per_ip: usize) -> IpLimiter {
        IpLimiter {
            per_ip: per_ip.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot at `ip`; the slot is held until the permit drops.
    pub async fn acquire(&self, ip: IpAddr) -> OwnedSemaphorePermit {
        let semaphore = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            // Forget idle addresses now and then, so the map follows the
            // addresses in use rather than every address ever seen.
            if slots.len() > 10_000 {
                slots.retain(|_, s| s.available_permits() < self.per_ip);
            }
            slots
                .entry(ip)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_ip)))
                .clone()
        };
        semaphore
            .acquire_owned()
            .await
            .expect("per-IP semaphores are never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_the_largest_reason_within_caps() {
        let config = PolitenessConfig::default();
        let ms = Duration::from_millis;
        assert_eq!(config.delay_after(ms(200), None), ms(1000), "min delay");
        assert_eq!(config.delay_after(ms(3000), None), ms(3000), "slow host");
        assert_eq!(
            config.delay_after(ms(10), Some(ms(5000))),
            ms(5000),
            "crawl-delay"
        );
        assert_eq!(
            config.delay_after(ms(10), Some(ms(900_000))),
            ms(30_000),
            "crawl-delay cap"
        );
        // A tarpit (a response that took 15 minutes) rests its host 10 s.
        assert_eq!(config.delay_after(ms(900_000), None), ms(10_000), "slow-host cap");
        assert_eq!(config.backoff(Some(ms(7000))), ms(7000));
        assert_eq!(config.backoff(None), ms(60_000));
        let off = PolitenessConfig {
            min_delay: Duration::ZERO,
            response_time_factor: 0.0,
            ..config
        };
        assert_eq!(off.delay_after(ms(200), None), Duration::ZERO);
    }

    #[tokio::test]
    async fn ip_slots_are_shared_and_released() {
        let limiter = IpLimiter::new(1);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let first = limiter.acquire(ip).await;
        let other_ip = limiter.acquire("127.0.0.2".parse().unwrap()).await;
        assert!(
            tokio::time::timeout(Duration::from_millis(50), limiter.acquire(ip))
                .await
                .is_err()
        );
        drop(first);
        drop(other_ip);
        let _again = limiter.acquire(ip).await;
    }
}
