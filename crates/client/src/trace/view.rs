//! The reader's side of message trace: the lines of trace bodies that concern one message id,
//! as rows a tool can print (`mqadmin QueryMsgTraceById`, the console).
//!
//! Trace messages are found with QUERY_MESSAGE on the trace topic with the message id as the
//! key (the trace producer indexes every trace message under the ids it mentions); a trace
//! message may also mention other ids, so only the lines about this id are kept.
//! Book: Part II "Consuming" (section "Message trace"). Mirrors `TraceView` of 4.8.0.

use super::record::{decode, TraceDecodeError, TraceType};

/// One trace line about one message (`TraceView`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceView {
    /// The message id.
    pub msg_id: String,
    /// Pub, SubBefore or SubAfter.
    pub trace_type: TraceType,
    /// Producer or consumer group.
    pub group_name: String,
    /// The client that sent (Pub) or consumed (SubBefore) it; empty when the line does not say
    /// (SubAfter).
    pub client_host: String,
    /// The broker that stored it (Pub); empty otherwise.
    pub store_host: String,
    /// When the event happened (epoch ms; 0 when an old SubAfter line does not say).
    pub time_stamp_ms: i64,
    /// Time taken (ms).
    pub cost_time_ms: i32,
    /// `success` or `failed`, as 4.8.0 prints it.
    pub status: &'static str,
    /// The message's topic (Pub).
    pub topic: String,
    /// Its tags, as written (`null` when it had none).
    pub tags: String,
    /// Its keys, as written.
    pub keys: String,
    /// The offset message id (Pub, recent clients).
    pub offset_msg_id: String,
    /// Reconsume count (SubBefore).
    pub retry_times: i32,
    /// Pairs a SubBefore with its SubAfter.
    pub request_id: String,
}

// ANCHOR: trace_view
/// The lines of one trace body about `msg_id` (`TraceView.decodeFromTraceTransData`).
pub fn views_for(msg_id: &str, body: &str) -> Result<Vec<TraceView>, TraceDecodeError> {
    Ok(decode(body)?
        .into_iter()
        .filter_map(|ctx| {
            let bean = ctx.beans.into_iter().next()?;
            (bean.msg_id == msg_id).then(|| TraceView {
                msg_id: bean.msg_id,
                trace_type: ctx.trace_type,
                group_name: ctx.group_name,
                client_host: bean.client_host,
                store_host: bean.store_host,
                time_stamp_ms: ctx.time_stamp_ms,
                cost_time_ms: ctx.cost_time_ms,
                status: if ctx.success { "success" } else { "failed" },
                topic: bean.topic,
                tags: bean.tags.unwrap_or_default(),
                keys: bean.keys.unwrap_or_default(),
                offset_msg_id: bean.offset_msg_id,
                retry_times: bean.retry_times,
                request_id: ctx.request_id,
            })
        })
        .collect())
}
// ANCHOR_END: trace_view

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_lines_about_the_id() {
        let body = "SubBefore\u{1}10\u{1}r\u{1}cg\u{1}R1\u{1}A\u{1}1\u{1}k\u{1}ip@1\u{2}\
                    SubBefore\u{1}10\u{1}r\u{1}cg\u{1}R1\u{1}B\u{1}0\u{1}k\u{1}ip@1\u{2}\
                    SubAfter\u{1}R1\u{1}A\u{1}4\u{1}false\u{1}k\u{1}4\u{1}12\u{1}cg\u{2}";
        let v = views_for("A", body).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].trace_type, TraceType::SubBefore);
        assert_eq!((v[0].client_host.as_str(), v[0].retry_times), ("ip@1", 1));
        assert_eq!(v[1].trace_type, TraceType::SubAfter);
        assert_eq!(
            (v[1].status, v[1].cost_time_ms, v[1].time_stamp_ms),
            ("failed", 4, 12)
        );
        assert_eq!(v[1].request_id, v[0].request_id);
        assert!(views_for("C", body).unwrap().is_empty());
    }
}
