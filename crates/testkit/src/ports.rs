//! Free TCP ports on 127.0.0.1 for servers a test is about to start: plain ports, and broker
//! listen ports p whose VIP channel (p-2) and HA port (p+1) are free too. Ports handed out
//! once are never handed out again by this process, since tests run in parallel threads.
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: none.

use std::net::TcpListener;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Every port handed out so far by this process.
static TAKEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());

const TRIES: usize = 200;

fn kernel_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(Error::io("binding 127.0.0.1:0"))
}

fn bindable(p: u16) -> bool {
    TcpListener::bind(("127.0.0.1", p)).is_ok()
}

/// Reserves `ports` if none was handed out before and all can be bound now.
fn claim(ports: &[u16]) -> bool {
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    if ports.iter().any(|p| taken.contains(p)) || !ports.iter().all(|p| bindable(*p)) {
        return false;
    }
    taken.extend_from_slice(ports);
    true
}

/// A port that is free on 127.0.0.1 now and was not handed out before by this process.
pub fn free_port() -> Result<u16> {
    for _ in 0..TRIES {
        let p = kernel_port()?;
        if claim(&[p]) {
            return Ok(p);
        }
    }
    Err(Error::NoFreePort("port"))
}

/// `n` distinct free ports (see [`free_port`]).
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    (0..n).map(|_| free_port()).collect()
}

/// A broker listen port p with p-2 (the clients' VIP channel) and p+1 (the HA service) free
/// as well; p-2..=p+1 are reserved against later calls.
pub fn free_broker_port() -> Result<u16> {
    for _ in 0..TRIES {
        let p = kernel_port()?;
        if !(1100..65000).contains(&p) {
            continue;
        }
        if claim(&[p - 2, p - 1, p, p + 1]) {
            return Ok(p);
        }
    }
    Err(Error::NoFreePort("broker port (p-2, p, p+1)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_never_handed_out_twice() {
        let mut seen = free_ports(20).unwrap();
        for _ in 0..10 {
            let p = free_broker_port().unwrap();
            seen.extend([p - 2, p - 1, p, p + 1]);
        }
        let n = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), n, "a port was handed out twice");
    }

    #[test]
    fn broker_port_neighbours_are_bindable() {
        let p = free_broker_port().unwrap();
        for q in [p - 2, p, p + 1] {
            assert!(bindable(q), "{q} is not free");
        }
    }
}
