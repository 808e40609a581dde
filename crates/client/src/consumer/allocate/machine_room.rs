//! Allocation by machine room (data centre), for deployments that span several.
//!
//! * By machine room (`AllocateMessageQueueByMachineRoom`): brokers are named
//!   `<room>@<name>`; a consumer group is configured with the rooms it consumes from, and
//!   shares only those brokers' queues, in contiguous runs with the remainder dealt one each.
//! * Machine room nearby (`AllocateMachineRoomNearby`): a resolver tells the room of each
//!   broker and each consumer. Queues of a room are shared by that room's consumers with an
//!   inner strategy; queues of a room without any consumer are shared by all consumers.
//!
//! Book: Part II "Clients and rebalancing" (allocation strategies). Mirrors
//! `AllocateMessageQueueByMachineRoom` and `AllocateMachineRoomNearby`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use rmq_remoting::protocol::MessageQueue;
use tracing::warn;

use super::AllocateStrategy;

/// `current_cid`'s share of the queues of brokers named `<room>@<name>` with `room` in `rooms`.
pub fn allocate_by_machine_room(
    current_cid: &str,
    mq_all: &[MessageQueue],
    cid_all: &[String],
    rooms: &BTreeSet<String>,
) -> Vec<MessageQueue> {
    let Some(index) = cid_all.iter().position(|c| c == current_cid) else {
        return Vec::new();
    };
    let wanted: Vec<&MessageQueue> = mq_all
        .iter()
        .filter(|mq| {
            let parts: Vec<&str> = mq.broker_name.split('@').collect();
            parts.len() == 2 && rooms.contains(parts[0])
        })
        .collect();
    let n = cid_all.len();
    let (per, rem) = (wanted.len() / n, wanted.len() % n);
    let mut out: Vec<MessageQueue> = wanted[per * index..per * index + per]
        .iter()
        .map(|m| (*m).clone())
        .collect();
    if rem > index {
        out.push(wanted[index + per * n].clone());
    }
    out
}

/// Tells where brokers and consumers run (`AllocateMachineRoomNearby.MachineRoomResolver`).
pub trait MachineRoomResolver: Send + Sync {
    /// The machine room of the broker holding `mq`.
    fn broker_deploy_in(&self, mq: &MessageQueue) -> Option<String>;
    /// The machine room of the consumer `client_id`.
    fn consumer_deploy_in(&self, client_id: &str) -> Option<String>;
}

/// A resolver that reads the room as the text before the first `separator` of the broker
/// name and of the client id (with `-`: broker `IDC1-broker-a` and client `IDC1-10.0.0.5@x`
/// are in room `IDC1`).
#[derive(Debug, Clone, Copy)]
pub struct PrefixResolver {
    /// What ends the room name.
    pub separator: char,
}

impl MachineRoomResolver for PrefixResolver {
    fn broker_deploy_in(&self, mq: &MessageQueue) -> Option<String> {
        mq.broker_name
            .split_once(self.separator)
            .map(|(room, _)| room.to_string())
    }

    fn consumer_deploy_in(&self, client_id: &str) -> Option<String> {
        client_id
            .split_once(self.separator)
            .map(|(room, _)| room.to_string())
    }
}

/// The settings of machine-room-nearby allocation.
#[derive(Clone)]
pub struct MachineRoomNearby {
    /// Where brokers and consumers run.
    pub resolver: Arc<dyn MachineRoomResolver>,
    /// How the queues of one room are shared.
    pub inner: Box<AllocateStrategy>,
}

impl fmt::Debug for MachineRoomNearby {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineRoomNearby")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl MachineRoomNearby {
    /// `current_cid`'s queues: its own room's queues shared with its room's consumers, plus a
    /// share of every room that has no consumer at all. A broker or consumer whose room the
    /// resolver cannot tell makes the round allocate nothing (4.8.0 throws).
    pub fn allocate(
        &self,
        current_cid: &str,
        mq_all: &[MessageQueue],
        cid_all: &[String],
    ) -> Vec<MessageQueue> {
        if !cid_all.iter().any(|c| c == current_cid) {
            return Vec::new();
        }
        let mut room_queues: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
        for mq in mq_all {
            let Some(room) = self.resolver.broker_deploy_in(mq).filter(|r| !r.is_empty()) else {
                warn!(queue = ?mq, "machine room is null for message queue; allocating nothing");
                return Vec::new();
            };
            room_queues.entry(room).or_default().push(mq.clone());
        }
        let mut room_consumers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for cid in cid_all {
            let Some(room) = self
                .resolver
                .consumer_deploy_in(cid)
                .filter(|r| !r.is_empty())
            else {
                warn!(client_id = %cid, "machine room is null for consumer id; allocating nothing");
                return Vec::new();
            };
            room_consumers.entry(room).or_default().push(cid.clone());
        }
        let mut out = Vec::new();
        let mine = self
            .resolver
            .consumer_deploy_in(current_cid)
            .unwrap_or_default();
        if let (Some(mqs), Some(cids)) = (room_queues.remove(&mine), room_consumers.get(&mine)) {
            out.extend(self.inner.allocate(current_cid, &mqs, cids));
        }
        for (room, mqs) in &room_queues {
            if !room_consumers.contains_key(room) {
                out.extend(self.inner.allocate(current_cid, mqs, cid_all));
            }
        }
        out
    }
}
