//! The crawler's behaviour towards the sites it visits, tested against
//! local fixture servers: politeness, robots.txt, DNS, hostile servers,
//! near-duplicates, revisits and stopping.

mod dead_hosts;
mod dns;
mod freshness;
mod hostile;
mod hygiene;
mod politeness;
mod robots;
mod shutdown;
mod support;
