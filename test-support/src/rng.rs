//! A small deterministic generator (xorshift) for randomised fault tests:
//! each run draws its points from a seed it prints, and
//! `TRAWL_FAULT_SEED` replays a run.

pub struct Rng(u64);

impl Rng {
    /// Seeded from `TRAWL_FAULT_SEED`, or from the clock (and printed).
    pub fn from_env() -> Rng {
        let seed = std::env::var("TRAWL_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("fault seed: TRAWL_FAULT_SEED={seed}");
        Rng(seed | 1)
    }

    /// A number from `low` to `high`, both included.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low + 1)
    }
}
