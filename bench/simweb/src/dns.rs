//! The web's DNS: an authoritative server on loopback (UDP) that answers A
//! queries for `hN.sim` with the host's address, NXDOMAIN for hosts that do
//! not exist (or are made not to), and no records for other types.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};

use crate::model::{HostKind, Web};

/// How long resolvers may keep an answer.
const TTL_SECS: u32 = 3600;

/// Binds `addr` and answers queries until the runtime ends; returns the
/// bound address and a count of the queries answered.
pub async fn serve(web: Arc<Web>, addr: SocketAddr) -> anyhow::Result<(SocketAddr, Arc<AtomicU64>)> {
    let socket = tokio::net::UdpSocket::bind(addr).await?;
    let bound = socket.local_addr()?;
    let queries = Arc::new(AtomicU64::new(0));
    let counter = queries.clone();
    tokio::spawn(async move {
        let mut buffer = [0u8; 1500];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            let Ok(request) = Message::from_vec(&buffer[..len]) else {
                continue;
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.authoritative = true;
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            for query in &request.queries {
                response.add_query(query.clone());
                let name = query.name().to_lowercase().to_ascii();
                match web.host_by_name(&name) {
                    Some(host) if host.kind != HostKind::NoSuchName => {
                        if query.query_type() == RecordType::A {
                            response.add_answer(Record::from_rdata(
                                query.name().clone(),
                                TTL_SECS,
                                RData::A(A(host.address)),
                            ));
                        }
                    }
                    _ => response.metadata.response_code = ResponseCode::NXDomain,
                }
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    Ok((bound, queries))
}
