//! The command line: every subcommand with its flags (clap), the typed and
//! validated configuration each becomes, and running it. `main.rs` only
//! parses (through [`crate::config`], which layers the config file and the
//! environment under the flags) and calls [`run`].
//!
//! Validation happens once, here: a value out of its range is an error that
//! names the setting (clap's value parsers, which also check the values
//! from the file and the environment), and so is a combination that cannot
//! run (`--per-ip` below `--per-host`). Nothing is clamped silently, so
//! what `--print-config` prints is what runs.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use amqp::AmqpConfig;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use common::NormalizedUrl;
use crawler::frontier::{FrontierConfig, RedisFrontierConfig};
use crawler::politeness::PolitenessConfig;
use crawler::scope::Scope;
use crawler::sites::{SiteRule, SiteRules};
use crawler::{CrawlConfig, Progress};
use indexer::service::CommitPolicy;
use query_api::{AccessConfig, RateLimit, SearchConfig};

use crate::commands::{Backend, ConsumerConfig, FrontierChoice, ServeConfig};
use crate::config::Loaded;
use crate::{DataDir, commands, signal};

#[derive(Parser)]
#[command(name = "trawl", version, about = "A polite web crawler and search engine")]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Crawl into a data directory (or publish to RabbitMQ), then print a
    /// summary (a batch run).
    Crawl {
        #[command(flatten)]
        crawl: CrawlArgs,
        #[command(flatten)]
        amqp: PublishArgs,
        /// Serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:9100)
        /// while crawling; none without it.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Serve searches over a data directory.
    Serve(ServeArgs),
    /// Crawl and serve in one process; keeps serving after the crawl ends.
    Run {
        #[command(flatten)]
        crawl: CrawlArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// An index shard: consume its RabbitMQ queue into a tantivy index, and
    /// answer searches over it (/shard/search).
    Index {
        #[command(flatten)]
        consumer: ConsumerArgs,
        /// This shard's number, from 0.
        #[arg(long, value_name = "I")]
        shard: u32,
        /// Index shards of the crawl: as given to `trawl crawl --shards`.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        shards: u32,
    },
    /// The document service: consume every page from RabbitMQ into a
    /// docstore, and serve documents by id (/docs/{doc_id}).
    Docs {
        #[command(flatten)]
        consumer: ConsumerArgs,
        /// Index shards of the crawl, as given to `trawl crawl --shards`
        /// (a replica's queue is bound to every shard's key).
        #[arg(long, value_name = "N", default_value_t = AmqpConfig::DEFAULT_SHARDS, value_parser = clap::value_parser!(u32).range(1..))]
        shards: u32,
        /// Run as a named replica with a queue of its own, which receives
        /// every page published after the replica first started (without
        /// it: the docs queue, which receives every page). Replicas sharing
        /// a queue would split the pages between them.
        #[arg(long, value_name = "NAME")]
        replica: Option<String>,
    },
    /// Refill a crawl's frontier that Redis lost (it restarted without
    /// persistence): queues again every page of a worker's data directory,
    /// and the seeds. Run it once for each worker's data directory, then
    /// start the workers again.
    Rebuild {
        #[command(flatten)]
        redis: RedisArgs,
        /// The worker's data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The crawl's seeds (repeatable).
        #[arg(long = "seed", value_name = "URL")]
        seeds: Vec<String>,
        /// Queue the pages again even though the frontier is not lost.
        #[arg(long)]
        force: bool,
    },
    /// Where a crawl stands: its frontier (queued, leased, resting hosts)
    /// and its last run's summary (fetched, errors and skips by reason).
    Status {
        /// The crawl's data directory (its frontier unless --redis, and its
        /// last run's summary).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        #[command(flatten)]
        redis: RedisArgs,
    },
    /// Merge a data directory's index into one segment, without its
    /// deleted pages: searches of an index a batch crawl finished get
    /// faster. Run it while nothing writes the index.
    Compact {
        /// The data directory whose index to merge.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Add seeds to a crawl running on Redis.
    Seed {
        #[command(flatten)]
        redis: RedisArgs,
        /// URLs to add.
        #[arg(value_name = "URL", required = true)]
        urls: Vec<String>,
    },
}

/// Where a shared frontier lives.
#[derive(Args)]
pub struct RedisArgs {
    /// Share the frontier with other workers through this Redis
    /// (redis://host:port); without it the frontier is in --data-dir.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Namespace of the crawl's keys in Redis.
    #[arg(long, value_name = "NAME", default_value = "trawl")]
    redis_prefix: String,
    /// Partitions hosts are spread over; fixed for the life of a crawl.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    partitions: u32,
    /// A worker that misses its heartbeats this long loses its partitions.
    #[arg(long, value_name = "MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(300..))]
    partition_lease_ms: u64,
    /// Crawl on a Redis that keeps nothing on disk (append-only file off),
    /// with a warning: a restart of it then loses the frontier, and the
    /// workers stop until it is rebuilt (`trawl rebuild`).
    #[arg(long)]
    redis_allow_volatile: bool,
}

impl RedisArgs {
    fn config(&self, frontier: FrontierConfig) -> Option<RedisFrontierConfig> {
        let url = self.redis.as_ref()?;
        let mut config = RedisFrontierConfig::new(url);
        config.prefix = self.redis_prefix.clone();
        config.partitions = self.partitions;
        config.partition_lease = Duration::from_millis(self.partition_lease_ms);
        config.frontier = frontier;
        config.allow_volatile = self.redis_allow_volatile;
        Some(config)
    }
}

/// Where `trawl crawl` sends its pages instead of indexing them.
#[derive(Args)]
pub struct PublishArgs {
    /// Publish pages to this RabbitMQ (amqp://user:password@host:5672/%2f)
    /// for `trawl index` and `trawl docs`, instead of indexing them in
    /// --data-dir.
    #[arg(long, value_name = "URL")]
    amqp: Option<String>,
    /// Starts the name of every exchange and queue of the pipeline.
    #[arg(long, value_name = "NAME", default_value = "trawl")]
    amqp_prefix: String,
    /// Index shards: a page goes to shard doc_id % N. Fixed for the life of
    /// an index.
    #[arg(long, value_name = "N", default_value_t = AmqpConfig::DEFAULT_SHARDS, value_parser = clap::value_parser!(u32).range(1..))]
    shards: u32,
}

impl PublishArgs {
    fn config(&self) -> Option<AmqpConfig> {
        let url = self.amqp.as_ref()?;
        let mut config = AmqpConfig::new(url, &self.amqp_prefix);
        config.shards = self.shards;
        Some(config)
    }
}

/// What `trawl index` and `trawl docs` share.
#[derive(Args)]
pub struct ConsumerArgs {
    /// The RabbitMQ the crawl publishes to (amqp://user:password@host:5672/%2f).
    #[arg(long, value_name = "URL")]
    amqp: String,
    /// As given to `trawl crawl --amqp-prefix`.
    #[arg(long, value_name = "NAME", default_value = "trawl")]
    amqp_prefix: String,
    /// Where the index (or docstore) lives: one directory per consumer.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// Deliveries held unacknowledged at once [default: --commit-docs, at
    /// most 65535, so that a batch can fill].
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(1..))]
    prefetch: Option<u16>,
    /// Commit after this many pages (or 4 MB of their text)...
    #[arg(long, value_name = "N", default_value_t = CommitPolicy::default().max_batch_docs, value_parser = at_least(1))]
    commit_docs: usize,
    /// ...or this many milliseconds after the first uncommitted one.
    #[arg(long, value_name = "MS", default_value_t = CommitPolicy::default().max_batch_delay.as_millis() as u64, value_parser = clap::value_parser!(u64).range(1..))]
    commit_ms: u64,
    /// Serve HTTP here (e.g. 127.0.0.1:8091); none without it.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

impl ConsumerArgs {
    fn config(&self, shards: u32) -> anyhow::Result<ConsumerConfig> {
        let mut amqp = AmqpConfig::new(&self.amqp, &self.amqp_prefix);
        amqp.shards = shards;
        amqp.prefetch = self
            .prefetch
            .unwrap_or_else(|| u16::try_from(self.commit_docs).unwrap_or(u16::MAX));
        amqp.validate()?;
        Ok(ConsumerConfig {
            amqp,
            commit: CommitPolicy::every(self.commit_docs, Duration::from_millis(self.commit_ms)),
        })
    }
}

#[derive(Args)]
pub struct CrawlArgs {
    /// A URL to start from (repeatable).
    #[arg(long = "seed", value_name = "URL")]
    seeds: Vec<String>,
    /// A file of seed URLs, one per line, each optionally followed by its
    /// priority (0 to 1, default 1; higher is crawled first). `#` starts a
    /// comment.
    #[arg(long, value_name = "FILE")]
    seeds_file: Option<PathBuf>,
    /// Follow only links under this URL prefix (repeatable).
    #[arg(long, value_name = "URL_PREFIX")]
    include: Vec<String>,
    /// Never follow a link whose URL this regular expression matches
    /// (repeatable), e.g. '/search\?' or '\.pdf$'.
    #[arg(long, value_name = "REGEX", value_parser = url_pattern)]
    exclude: Vec<String>,
    /// A rule for some hosts (repeatable): 'HOST key=value ...' or JSON,
    /// keys include, exclude, delay_ms, max_pages, user_agent; HOST is
    /// docs.example.com, *.example.com or *. In the config file: a
    /// [[crawl.site]] table with the same keys.
    #[arg(long = "site", value_name = "RULE", value_parser = site_rule)]
    sites: Vec<String>,
    /// Stop after this many fetches.
    #[arg(long, value_name = "N")]
    max_pages: Option<u64>,
    /// Fetch every page crawled before again, not only those due for a
    /// revisit (a rerun of a finished crawl otherwise has nothing to do).
    #[arg(long)]
    recrawl: bool,
    /// With --redis: stop once the shared frontier is empty, instead of
    /// running as a daemon that waits for new work.
    #[arg(long)]
    until_empty: bool,
    #[command(flatten)]
    redis: RedisArgs,
    /// A claimed link returns to the frontier if its worker has not finished
    /// it within this many milliseconds.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(100..))]
    lease_ms: Option<u64>,
    /// Follow links at most this many hops from a seed.
    #[arg(long, value_name = "N", default_value_t = crawler::config::DEFAULT_MAX_DEPTH)]
    max_depth: u32,
    /// Where the frontier, crawled_links, index and docstore live (with
    /// --amqp: the frontier and crawled_links).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// How far links are followed: the seeds' hosts, their registrable
    /// domains, their directories, or anywhere.
    #[arg(long, value_name = "host|domain|prefix|any", default_value = "host", value_parser = str::parse::<Scope>)]
    scope: Scope,
    /// Allow fetching from loopback, private and link-local addresses.
    #[arg(long)]
    allow_private: bool,
    /// Allow one non-public network, e.g. 10.0.0.0/8 (repeatable).
    #[arg(long, value_name = "CIDR")]
    allow_net: Vec<String>,
    /// Minimum milliseconds between two requests to one host.
    #[arg(long, value_name = "MS", default_value_t = PolitenessConfig::default().min_delay.as_millis() as u64)]
    delay_ms: u64,
    /// Rest a host at least this many times its last response time.
    #[arg(long, value_name = "FACTOR", default_value_t = PolitenessConfig::default().response_time_factor, value_parser = non_negative)]
    delay_factor: f64,
    /// Honour robots.txt Crawl-delay up to this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = PolitenessConfig::default().max_crawl_delay.as_millis() as u64)]
    max_crawl_delay_ms: u64,
    /// Requests in flight to one host at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least(1))]
    per_host: usize,
    /// Requests in flight to one IP address at once, across its hosts; at
    /// least --per-host [default: 4, or --per-host when that is more].
    #[arg(long, value_name = "N", value_parser = at_least(1))]
    per_ip: Option<usize>,
    /// Pages parsed at once (parsing is the crawl's main CPU work) [default:
    /// one more than the cores, so that no core waits for the next page].
    #[arg(long, value_name = "N", value_parser = at_least(1))]
    parse_threads: Option<usize>,
    /// Requests in flight across all hosts (robots.txt and sitemaps
    /// included). Links waiting for their IP address's slot or being parsed
    /// hold none: up to twice as many links are held in all.
    #[arg(long, value_name = "N", default_value_t = crawler::config::DEFAULT_CONCURRENCY, value_parser = at_least(1))]
    concurrency: usize,
    /// URLs queued per host at most.
    #[arg(long, value_name = "N")]
    max_pages_per_host: Option<u64>,
    /// Distinct query strings queued per path at most (calendar traps).
    #[arg(long, value_name = "N")]
    max_queries_per_path: Option<u64>,
    /// Bytes of a page kept; the rest is not downloaded.
    #[arg(long, value_name = "BYTES", value_parser = at_least(1024))]
    max_body_bytes: Option<usize>,
    /// Give up on a fetch after this many milliseconds.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: Option<u64>,
    /// Resolve HOST to IP without asking DNS (repeatable), e.g. docs.test=127.0.0.1.
    #[arg(long, value_name = "HOST=IP")]
    resolve: Vec<String>,
    /// Ask this DNS server instead of the system's, e.g. 127.0.0.1:5353.
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<SocketAddr>,
    /// The User-Agent header; its first word is the robots.txt product token.
    #[arg(long)]
    user_agent: Option<String>,
    /// Seconds until a fetched page is first visited again (default 7 days);
    /// pages seen changing come sooner, pages seen unchanged later.
    #[arg(long, value_name = "SECS")]
    revisit_after_secs: Option<u64>,
    /// Seconds between revisits at least (default 1 hour).
    #[arg(long, value_name = "SECS")]
    revisit_min_secs: Option<u64>,
    /// Seconds between revisits at most (default 60 days).
    #[arg(long, value_name = "SECS")]
    revisit_max_secs: Option<u64>,
    /// Archive every request and response as WARC/1.1 files (gzipped per
    /// record, with a CDXJ index beside each) in this directory.
    #[arg(long, value_name = "DIR")]
    warc: Option<PathBuf>,
    /// Start a new WARC file once one reaches this many megabytes.
    #[arg(long, value_name = "MB", default_value_t = crawler::warc::WarcConfig::DEFAULT_MAX_FILE_BYTES / 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    warc_max_mb: u64,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Search the index and docstore of this data directory (of `trawl
    /// crawl` or `trawl run`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// An index shard: a `trawl index --listen` server (http://host:port)
    /// or its data directory (repeatable; replaces --data-dir's index).
    #[arg(long = "shard", value_name = "URL|DIR")]
    shards: Vec<String>,
    /// The documents: a `trawl docs --listen` server (http://host:port) or
    /// its data directory (replaces --data-dir's docstore).
    #[arg(long, value_name = "URL|DIR")]
    docs: Option<String>,
    /// How long a shard may take to answer; slower shards are left out of
    /// the answer, which says so.
    #[arg(long, value_name = "MS", default_value_t = SearchConfig::default().shard_timeout.as_millis() as u64, value_parser = clap::value_parser!(u64).range(1..))]
    shard_timeout_ms: u64,
    /// How long a search may go on after its first pass: a second search
    /// with the spelling corrected, or with fewer words required, starts
    /// only within it.
    #[arg(long, value_name = "MS", default_value_t = SearchConfig::default().query_budget.as_millis() as u64)]
    query_budget_ms: u64,
    /// Searches computed at once; the others wait their turn in arrival
    /// order (cache hits never wait) [default: twice the cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    searches_at_once: Option<u64>,
    /// Searches that may wait for a turn; one more is answered 503 at once.
    #[arg(long, value_name = "N", default_value_t = SearchConfig::default().searches_waiting)]
    searches_waiting: usize,
    /// Answers the query cache keeps at most (0 turns it off).
    #[arg(long, value_name = "N", default_value_t = SearchConfig::default().cache_entries)]
    cache_entries: usize,
    /// Megabytes of answers the query cache keeps at most.
    #[arg(long, value_name = "MB", default_value_t = SearchConfig::default().cache_bytes / (1024 * 1024))]
    cache_mb: usize,
    /// Serve an empty index where a directory has none yet (by default a
    /// directory without an index is an error: most likely a typo).
    #[arg(long)]
    create: bool,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    access: AccessArgs,
}

/// Who may use the search API, from which web pages, and how often.
#[derive(Args)]
pub struct AccessArgs {
    /// A key that may search (repeatable); with one set, searches need a
    /// key (Authorization: Bearer KEY, X-API-Key: KEY or ?key=KEY).
    #[arg(long = "search-key", value_name = "KEY", hide_env_values = true)]
    search_keys: Vec<String>,
    /// A key that may also read /api/v1/stats and /metrics (repeatable);
    /// with one set, those need it.
    #[arg(long = "admin-key", value_name = "KEY", hide_env_values = true)]
    admin_keys: Vec<String>,
    /// An origin whose web pages may call the API (repeatable), e.g.
    /// https://docs.example.com; * for any.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Requests per second one client may make on average (none: no limit).
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    rate_limit: Option<f64>,
    /// Requests one client may make at once before the rate limit holds it
    /// back [default: twice --rate-limit, at least 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rate_burst: Option<u32>,
    /// The header that names the client behind a proxy (X-Forwarded-For,
    /// X-Real-IP); only behind a proxy that sets it.
    #[arg(long, value_name = "NAME")]
    client_ip_header: Option<String>,
}

impl AccessArgs {
    fn config(&self) -> anyhow::Result<AccessConfig> {
        let config = AccessConfig {
            search_keys: self.search_keys.clone(),
            admin_keys: self.admin_keys.clone(),
            cors_origins: self.cors_origins.clone(),
            rate_limit: self.rate_limit.map(|per_second| RateLimit {
                per_second,
                burst: self
                    .rate_burst
                    .unwrap_or_else(|| (per_second * 2.0).ceil().clamp(1.0, f64::from(u32::MAX)) as u32),
            }),
            client_ip_header: self
                .client_ip_header
                .as_deref()
                .map(|name| {
                    axum::http::HeaderName::try_from(name)
                        .with_context(|| format!("--client-ip-header {name:?} is not a header name"))
                })
                .transpose()?,
        };
        if self.rate_burst.is_some() && self.rate_limit.is_none() {
            bail!("--rate-burst needs --rate-limit");
        }
        config.validate().map_err(anyhow::Error::msg)?;
        Ok(config)
    }
}

/// A value parser for a rate above 0.
fn positive_rate(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err("must be a number above 0".to_string());
    }
    Ok(value)
}

impl ServeArgs {
    fn config(&self) -> anyhow::Result<ServeConfig> {
        let timeout = Duration::from_millis(self.shard_timeout_ms);
        let defaults = SearchConfig::default();
        Ok(ServeConfig {
            data_dir: self.data_dir.clone(),
            shards: self.shards.iter().map(|s| Backend::parse(s)).collect(),
            docs: self.docs.as_deref().map(Backend::parse),
            create_missing: self.create,
            search: SearchConfig {
                shard_timeout: timeout,
                docs_timeout: timeout,
                cache_entries: self.cache_entries,
                cache_bytes: self.cache_mb.saturating_mul(1024 * 1024),
                query_budget: Duration::from_millis(self.query_budget_ms),
                searches_at_once: self
                    .searches_at_once
                    .map_or(defaults.searches_at_once, |n| n as usize),
                searches_waiting: self.searches_waiting,
                ..defaults
            },
            access: self.access.config()?,
        })
    }
}

impl CrawlArgs {
    fn configs(&self) -> anyhow::Result<(CrawlConfig, FrontierChoice, DataDir)> {
        let mut seeds = parse_urls(&self.seeds, "seed")?;
        let mut seed_priorities = HashMap::new();
        if let Some(file) = &self.seeds_file {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            for (number, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or_default().trim();
                let mut fields = line.split_whitespace();
                let Some(url) = fields.next() else { continue };
                let where_ = || format!("{}:{}", file.display(), number + 1);
                let url = NormalizedUrl::parse(url).with_context(|| format!("{}: invalid seed", where_()))?;
                if let Some(priority) = fields.next() {
                    let priority: f64 = priority
                        .parse()
                        .ok()
                        .filter(|p| (0.0..=1.0).contains(p))
                        .with_context(|| {
                            format!(
                                "{}: the priority after the URL must be a number from 0 to 1",
                                where_()
                            )
                        })?;
                    seed_priorities.insert(url.clone(), priority);
                }
                seeds.push(url);
            }
        }
        if seeds.is_empty() && self.redis.redis.is_none() {
            bail!(
                "no seeds: give --seed URL or --seeds-file FILE (a worker joining a crawl on --redis may have none)"
            );
        }
        let mut config = CrawlConfig::new(seeds);
        config.seed_priorities = seed_priorities;
        config.scope = self.scope;
        config.include = parse_urls(&self.include, "--include prefix")?;
        let rules = self
            .sites
            .iter()
            .map(|text| SiteRule::parse(text).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let exclude = crawler::sites::compile(&self.exclude).map_err(anyhow::Error::msg)?;
        config.sites = std::sync::Arc::new(SiteRules::new(rules, exclude));
        config.max_pages = self.max_pages;
        config.recrawl = self.recrawl;
        // Alone, a crawl is over when its frontier is; a worker of a shared
        // crawl waits for work unless told otherwise.
        config.stop_when_empty = self.redis.redis.is_none() || self.until_empty;
        config.max_depth = self.max_depth;
        config.address_policy.allow_private = self.allow_private;
        config.address_policy.allowed_nets = self
            .allow_net
            .iter()
            .map(|net| net.parse().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?;
        config.politeness.min_delay = Duration::from_millis(self.delay_ms);
        config.politeness.response_time_factor = self.delay_factor;
        config.politeness.max_crawl_delay = Duration::from_millis(self.max_crawl_delay_ms);
        let per_ip = match self.per_ip {
            Some(per_ip) if per_ip < self.per_host => bail!(
                "--per-ip ({per_ip}) is below --per-host ({}): one host's requests share its IP address's slots",
                self.per_host
            ),
            Some(per_ip) => per_ip,
            None => PolitenessConfig::default()
                .max_in_flight_per_ip
                .max(self.per_host),
        };
        config.politeness.max_in_flight_per_ip = per_ip;
        config.concurrency = self.concurrency;
        if let Some(threads) = self.parse_threads {
            config.parse_threads = threads;
        }
        config.dns.overrides = parse_overrides(&self.resolve)?;
        config.dns.name_server = self.dns_server;
        if let Some(agent) = &self.user_agent {
            config.fetch.user_agent = agent.clone();
        }
        if let Some(bytes) = self.max_body_bytes {
            config.fetch.max_body_bytes = bytes;
        }
        let freshness = &mut config.freshness;
        if let Some(secs) = self.revisit_min_secs {
            freshness.min_interval = Duration::from_secs(secs);
        }
        if let Some(secs) = self.revisit_max_secs {
            freshness.max_interval = Duration::from_secs(secs);
        }
        if let Some(secs) = self.revisit_after_secs {
            freshness.first_interval = Duration::from_secs(secs);
        }
        if freshness.min_interval > freshness.max_interval {
            anyhow::bail!("--revisit-min-secs is above --revisit-max-secs");
        }
        if let Some(ms) = self.timeout_ms {
            config.fetch.total_timeout = Duration::from_millis(ms);
            config.fetch.first_byte_timeout = config.fetch.first_byte_timeout.min(config.fetch.total_timeout);
            config.fetch.connect_timeout = config.fetch.connect_timeout.min(config.fetch.total_timeout);
        }
        config.progress = if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Log
        };
        let mut frontier = FrontierConfig {
            max_in_flight_per_host: self.per_host,
            ..FrontierConfig::default()
        };
        if let Some(max) = self.max_pages_per_host {
            frontier.max_urls_per_host = max;
        }
        if let Some(max) = self.max_queries_per_path {
            frontier.max_queries_per_path = max;
        }
        if let Some(ms) = self.lease_ms {
            frontier.lease_duration = Duration::from_millis(ms);
        }
        let frontier = match self.redis.config(frontier) {
            Some(redis) => FrontierChoice::Redis(redis),
            None => FrontierChoice::Embedded(frontier),
        };
        config.warc = self.warc.as_ref().map(|dir| crawler::warc::WarcConfig {
            dir: dir.clone(),
            max_file_bytes: self.warc_max_mb.saturating_mul(1_000_000),
            // Workers of one crawl may share a directory: their files never
            // share a name.
            prefix: match &frontier {
                FrontierChoice::Redis(redis) => format!(
                    "trawl-{}",
                    redis.worker_id.replace(
                        |c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                        "_"
                    )
                ),
                FrontierChoice::Embedded(_) => "trawl".into(),
            },
        });
        Ok((config, frontier, DataDir::new(&self.data_dir)))
    }
}

fn parse_urls(texts: &[String], what: &str) -> anyhow::Result<Vec<NormalizedUrl>> {
    texts
        .iter()
        .map(|text| NormalizedUrl::parse(text).with_context(|| format!("invalid {what} {text:?}")))
        .collect()
}

fn parse_overrides(entries: &[String]) -> anyhow::Result<HashMap<String, Vec<IpAddr>>> {
    let mut overrides: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for entry in entries {
        let (host, ip) = entry
            .split_once('=')
            .with_context(|| format!("--resolve {entry:?}: expected HOST=IP"))?;
        let ip: IpAddr = ip
            .trim()
            .parse()
            .with_context(|| format!("--resolve {entry:?}: invalid IP"))?;
        overrides
            .entry(host.trim().to_ascii_lowercase())
            .or_default()
            .push(ip);
    }
    Ok(overrides)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn,hickory=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))
}

async fn bind_optional(address: Option<SocketAddr>) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    match address {
        Some(address) => Ok(Some(bind(address).await?)),
        None => Ok(None),
    }
}

/// A value parser for a count of at least `min`.
fn at_least(min: usize) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text| {
        let value: usize = text.parse().map_err(|e| format!("{e}"))?;
        if value < min {
            return Err(format!("must be at least {min}"));
        }
        Ok(value)
    }
}

/// A value parser for a URL pattern: a regular expression.
fn url_pattern(text: &str) -> Result<String, String> {
    crawler::sites::compile(&[text.to_string()])?;
    Ok(text.to_string())
}

/// A value parser for a site rule ([`SiteRule::parse`]).
fn site_rule(text: &str) -> Result<String, String> {
    SiteRule::parse(text)?;
    Ok(text.to_string())
}

/// A value parser for a factor of 0 or more.
fn non_negative(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if !value.is_finite() || value < 0.0 {
        return Err("must be a number of 0 or more".to_string());
    }
    Ok(value)
}

/// A subcommand with its validated configuration: what runs.
pub enum Job {
    Crawl {
        config: CrawlConfig,
        frontier: FrontierChoice,
        data_dir: DataDir,
        amqp: Option<AmqpConfig>,
        listen: Option<SocketAddr>,
    },
    Serve {
        config: ServeConfig,
        listen: SocketAddr,
    },
    Run {
        config: CrawlConfig,
        frontier: FrontierChoice,
        data_dir: DataDir,
        listen: SocketAddr,
        access: AccessConfig,
    },
    Index {
        config: ConsumerConfig,
        shard: u32,
        data_dir: DataDir,
        listen: Option<SocketAddr>,
    },
    Docs {
        config: ConsumerConfig,
        replica: Option<String>,
        data_dir: DataDir,
        listen: Option<SocketAddr>,
    },
    Rebuild {
        config: RedisFrontierConfig,
        data_dir: DataDir,
        seeds: Vec<NormalizedUrl>,
        force: bool,
    },
    Seed {
        config: RedisFrontierConfig,
        urls: Vec<NormalizedUrl>,
    },
    Compact {
        data_dir: DataDir,
    },
    Status {
        data_dir: Option<DataDir>,
        redis: Option<RedisFrontierConfig>,
    },
}

impl Cli {
    /// The configuration the chosen subcommand runs with, validated: every
    /// error a setting can cause, before anything starts.
    pub fn job(&self) -> anyhow::Result<Job> {
        Ok(match &self.command {
            Command::Crawl { crawl, amqp, listen } => {
                let (config, frontier, data_dir) = crawl.configs()?;
                let amqp = amqp.config();
                if let Some(amqp) = &amqp {
                    amqp.validate()?;
                }
                Job::Crawl {
                    config,
                    frontier,
                    data_dir,
                    amqp,
                    listen: *listen,
                }
            }
            Command::Serve(args) => Job::Serve {
                config: args.config()?,
                listen: args.listen,
            },
            Command::Run {
                crawl,
                listen,
                access,
            } => {
                let (config, frontier, data_dir) = crawl.configs()?;
                Job::Run {
                    config,
                    frontier,
                    data_dir,
                    listen: *listen,
                    access: access.config()?,
                }
            }
            Command::Index {
                consumer,
                shard,
                shards,
            } => {
                if shard >= shards {
                    bail!("--shard {shard} is not below --shards {shards}: shards are numbered from 0");
                }
                Job::Index {
                    config: consumer.config(*shards)?,
                    shard: *shard,
                    data_dir: DataDir::new(&consumer.data_dir),
                    listen: consumer.listen,
                }
            }
            Command::Docs {
                consumer,
                shards,
                replica,
            } => Job::Docs {
                config: consumer.config(*shards)?,
                replica: replica.clone(),
                data_dir: DataDir::new(&consumer.data_dir),
                listen: consumer.listen,
            },
            Command::Rebuild {
                redis,
                data_dir,
                seeds,
                force,
            } => {
                let Some(config) = redis.config(FrontierConfig::default()) else {
                    bail!("trawl rebuild refills a frontier on Redis: give --redis URL");
                };
                Job::Rebuild {
                    config,
                    data_dir: DataDir::new(data_dir),
                    seeds: parse_urls(seeds, "seed")?,
                    force: *force,
                }
            }
            Command::Status { data_dir, redis } => {
                if data_dir.is_none() && redis.redis.is_none() {
                    bail!("trawl status needs --data-dir DIR, or --redis URL (with --redis-prefix)");
                }
                Job::Status {
                    data_dir: data_dir.as_ref().map(DataDir::new),
                    redis: redis.config(FrontierConfig::default()),
                }
            }
            Command::Compact { data_dir } => Job::Compact {
                data_dir: DataDir::new(data_dir),
            },
            Command::Seed { redis, urls } => {
                let Some(config) = redis.config(FrontierConfig::default()) else {
                    bail!("trawl seed adds to a crawl on Redis: give --redis URL");
                };
                Job::Seed {
                    config,
                    urls: parse_urls(urls, "seed")?,
                }
            }
        })
    }
}

/// What `main` does: validates the settings, prints them for
/// `--print-config`, or runs the subcommand until it ends or a signal
/// stops it.
pub async fn run(loaded: Loaded<Cli>) -> anyhow::Result<()> {
    let job = loaded.cli.job()?;
    if loaded.print_config {
        print!("{}", loaded.effective_settings());
        return Ok(());
    }
    init_logging(loaded.cli.log_json);
    job.run().await
}

impl Job {
    /// Runs the subcommand; Ctrl-C or SIGTERM starts its drain.
    pub async fn run(self) -> anyhow::Result<()> {
        let shutdown = signal::shutdown_token();
        match self {
            Job::Crawl {
                config,
                frontier,
                data_dir,
                amqp,
                listen,
            } => {
                let listener = bind_optional(listen).await?;
                let stop = shutdown.cancelled_owned();
                let summary = match amqp {
                    Some(amqp) => {
                        commands::crawl_to_broker(config, frontier, &data_dir, amqp, listener, stop).await?
                    }
                    None => commands::crawl(config, frontier, &data_dir, listener, stop).await?,
                };
                println!("{summary}");
                if summary.every_seed_failed {
                    bail!("no seed could be reached (see \"seed failed\" above): nothing was crawled");
                }
            }
            Job::Serve { config, listen } => {
                let listener = bind(listen).await?;
                commands::serve(config, listener, shutdown.cancelled_owned()).await?;
            }
            Job::Run {
                config,
                frontier,
                data_dir,
                listen,
                access,
            } => {
                let listener = bind(listen).await?;
                commands::run(config, frontier, &data_dir, listener, access, shutdown).await?;
            }
            Job::Index {
                config,
                shard,
                data_dir,
                listen,
            } => {
                let listener = bind_optional(listen).await?;
                let stats = commands::index_shard(config, shard, &data_dir, listener, shutdown).await?;
                println!("indexed {} pages, removed {}", stats.upserted, stats.removed);
            }
            Job::Docs {
                config,
                replica,
                data_dir,
                listen,
            } => {
                let listener = bind_optional(listen).await?;
                let stats = commands::docs(config, replica.as_deref(), &data_dir, listener, shutdown).await?;
                println!("stored {} pages, removed {}", stats.upserted, stats.removed);
            }
            Job::Rebuild {
                config,
                data_dir,
                seeds,
                force,
            } => {
                let report = commands::rebuild(config, &data_dir, seeds, force).await?;
                println!(
                    "rebuilt: {} pages queued again, {} new seeds, epoch {}",
                    report.pages_queued, report.seeds_added, report.epoch
                );
            }
            Job::Status { data_dir, redis } => {
                print!("{}", commands::status(data_dir.as_ref(), redis).await?);
            }
            Job::Compact { data_dir } => {
                let (segments, documents) = commands::compact(&data_dir).await?;
                if segments > 1 {
                    println!("compacted: {segments} segments into 1, {documents} documents");
                } else {
                    println!("already compact: {segments} segment, {documents} documents");
                }
            }
            Job::Seed { config, urls } => {
                let given = urls.len();
                let added = commands::seed(config, urls).await?;
                println!("{added} of {given} seeds were new");
            }
        }
        Ok(())
    }
}
