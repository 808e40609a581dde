//! VIEW_BROKER_STATS_DATA (315): one statistics item of the broker over its last minute, hour
//! and day, what `mqadmin statsAll` reads for each topic (`TOPIC_PUT_NUMS`, key: the topic)
//! and each consuming group (`GROUP_GET_NUMS`, key: `topic@group`).
//!
//! An item the broker does not keep, or a key it has not counted yet, gets 4.8.0's
//! SYSTEM_ERROR "The stats <name> <key> not exist" (statsAll then counts it as zero).
//! Book: Part III "Operating a cluster with mqadmin" (stats). Mirrors `AdminBrokerProcessor`
//! (`ViewBrokerStatsData`) and `BrokerStatsManager.getStatsItem`.

use crate::broker::Broker;
use crate::processor::{ok, reply, Outcome};
use crate::stats::{StatsItemSet, StatsWindow};
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::header::ViewBrokerStatsDataRequestHeader;
use rmq_remoting::protocol::{encode_body, BrokerStatsData, BrokerStatsItem};
use rmq_remoting::RemotingCommand;

/// `BrokerStatsManager.TOPIC_PUT_NUMS`.
pub const TOPIC_PUT_NUMS: &str = "TOPIC_PUT_NUMS";
/// `BrokerStatsManager.GROUP_GET_NUMS`.
pub const GROUP_GET_NUMS: &str = "GROUP_GET_NUMS";

fn item(w: StatsWindow) -> BrokerStatsItem {
    BrokerStatsItem {
        avgpt: 0.0,
        sum: i64::try_from(w.sum).unwrap_or(i64::MAX),
        tps: w.tps,
    }
}

// ANCHOR: view_stats
/// VIEW_BROKER_STATS_DATA.
pub fn view_broker_stats_data(b: &Broker, req: &RemotingCommand) -> Outcome {
    let h: ViewBrokerStatsDataRequestHeader = req.decode_header()?;
    let set: Option<&StatsItemSet> = match h.stats_name.as_str() {
        TOPIC_PUT_NUMS => Some(&b.stats().topic_puts),
        GROUP_GET_NUMS => Some(&b.stats().group_gets.0),
        _ => None,
    };
    let Some(set) = set.filter(|s| s.has(&h.stats_key)) else {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("The stats <{}> <{}> not exist", h.stats_name, h.stats_key),
        ));
    };
    let [minute, hour, day] = set.windows(&h.stats_key);
    let body = BrokerStatsData {
        stats_day: item(day),
        stats_hour: item(hour),
        stats_minute: item(minute),
    };
    Ok(ok().with_body(encode_body(&body)?))
}
// ANCHOR_END: view_stats
