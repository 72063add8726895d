//! An authoritative DNS server on loopback (UDP), for the web's names and
//! for tests that need a real DNS server: [`serve_zone`] answers each query
//! from a lookup function; [`serve`] is the web's zone (`hN.sim` -> the
//! host's address, NXDOMAIN for hosts made not to exist).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};

use crate::model::{HostKind, Web};

/// How long resolvers may keep an answer of the web.
const TTL_SECS: u32 = 3600;

/// Binds `addr` and answers every query until the runtime ends: `lookup`
/// gets the name (lower case, without the final dot) and the type asked,
/// and gives the name's address with its TTL, or None for NXDOMAIN. A
/// name that exists answers other types than A with no records. Returns the
/// bound address.
pub async fn serve_zone<F>(addr: SocketAddr, lookup: F) -> std::io::Result<SocketAddr>
where
    F: Fn(&str, RecordType) -> Option<(Ipv4Addr, u32)> + Send + 'static,
{
    let socket = tokio::net::UdpSocket::bind(addr).await?;
    let bound = socket.local_addr()?;
    tokio::spawn(async move {
        let mut buffer = [0u8; 1500];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            let Ok(request) = Message::from_vec(&buffer[..len]) else {
                continue;
            };
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.authoritative = true;
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            for query in &request.queries {
                response.add_query(query.clone());
                let name = query.name().to_lowercase().to_ascii();
                match lookup(name.trim_end_matches('.'), query.query_type()) {
                    Some((ip, ttl)) if query.query_type() == RecordType::A => {
                        response.add_answer(Record::from_rdata(query.name().clone(), ttl, RData::A(A(ip))));
                    }
                    Some(_) => {} // the name exists, without records of that type
                    None => response.metadata.response_code = ResponseCode::NXDomain,
                }
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    Ok(bound)
}

/// The web's zone on `addr`; returns the bound address and a count of the
/// queries answered.
pub async fn serve(web: Arc<Web>, addr: SocketAddr) -> anyhow::Result<(SocketAddr, Arc<AtomicU64>)> {
    let queries = Arc::new(AtomicU64::new(0));
    let counter = queries.clone();
    let bound = serve_zone(addr, move |name, _| {
        counter.fetch_add(1, Ordering::Relaxed);
        web.host_by_name(name)
            .filter(|host| host.kind != HostKind::NoSuchName)
            .map(|host| (host.address, TTL_SECS))
    })
    .await?;
    Ok((bound, queries))
}
