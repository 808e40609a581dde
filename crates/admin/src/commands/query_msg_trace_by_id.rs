//! `mqadmin QueryMsgTraceById -i <msgId>`: the trace of one message — who sent it, when, how
//! long the send took, and each consumer group's verdicts.
//!
//! QUERY_MESSAGE on `RMQ_SYS_TRACE_TOPIC` with the message id as the key (max 64, whole time
//! range), then rmq-client's trace decoder keeps the lines about this id. A Pub line prints
//! as one block; SubAfter lines print grouped by consumer group (in Java `HashMap` order, as
//! 4.8.0 prints them). A SubAfter line does not name its client: 4.8.0 prints the address of
//! the host running mqadmin there; this command prints the client of the SubBefore line with
//! the same request id, and that address only when no such line exists.
//! Book: Part II "Consuming" (section "Message trace").
//! Mirrors `org.apache.rocketmq.tools.command.message.QueryMsgTraceByIdSubCommand`.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;
use rmq_client::trace::{views_for, TraceType, TraceView, RMQ_SYS_TRACE_TOPIC};

use crate::commands::CommonArgs;
use crate::format::{format_date, java_hashmap_order};

/// `QueryMsgTraceById`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Message Id
    #[arg(short = 'i', long = "msgId", value_name = "arg")]
    pub msg_id: String,
}

/// Runs `QueryMsgTraceById` and prints what 4.8.0's `QueryMsgTraceByIdSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let msg_id = args.msg_id.trim();
    let msgs = admin
        .query_message(
            RMQ_SYS_TRACE_TOPIC,
            msg_id,
            64,
            0,
            rmq_client::util::now_ms(),
            false,
        )
        .await;
    let local_ip = admin.instance().client_ip().to_string();
    admin.shutdown();
    let mut views = Vec::new();
    for m in msgs? {
        let body = String::from_utf8_lossy(&m.body);
        views.extend(
            views_for(msg_id, &body)
                .with_context(|| format!("trace message {} does not decode", m.msg_id()))?,
        );
    }
    print_trace(&views, &local_ip, out)?;
    Ok(())
}

// ANCHOR: print_trace
/// Prints Pub blocks, then one block of Sub rows per consumer group.
pub fn print_trace(
    views: &[TraceView],
    local_ip: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let clients: HashMap<&str, &str> = views
        .iter()
        .filter(|v| v.trace_type == TraceType::SubBefore)
        .map(|v| (v.request_id.as_str(), v.client_host.as_str()))
        .collect();
    let mut groups: Vec<(String, Vec<&TraceView>)> = Vec::new();
    for v in views {
        match v.trace_type {
            TraceType::Pub => {
                // Java: "%-10s %-20s %-20s %-20s %-10s %-10s%n"
                row(
                    out,
                    "#Type",
                    "#ProducerGroup",
                    "#ClientHost",
                    "#SendTime",
                    "#CostTimes",
                    "#Status",
                )?;
                row(
                    out,
                    "Pub",
                    &v.group_name,
                    &v.client_host,
                    &format_date(v.time_stamp_ms),
                    &format!("{}ms", v.cost_time_ms),
                    v.status,
                )?;
                writeln!(out)?;
            }
            TraceType::SubAfter => match groups.iter_mut().find(|(g, _)| *g == v.group_name) {
                Some((_, rows)) => rows.push(v),
                None => groups.push((v.group_name.clone(), vec![v])),
            },
            TraceType::SubBefore => {}
        }
    }
    for (_, rows) in java_hashmap_order(&groups) {
        row(
            out,
            "#Type",
            "#ConsumerGroup",
            "#ClientHost",
            "#ConsumerTime",
            "#CostTimes",
            "#Status",
        )?;
        for v in rows {
            let host = clients
                .get(v.request_id.as_str())
                .copied()
                .unwrap_or(local_ip);
            row(
                out,
                "Sub",
                &v.group_name,
                host,
                &format_date(v.time_stamp_ms),
                &format!("{}ms", v.cost_time_ms),
                v.status,
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
// ANCHOR_END: print_trace

fn row(
    out: &mut dyn Write,
    a: &str,
    b: &str,
    c: &str,
    d: &str,
    e: &str,
    f: &str,
) -> std::io::Result<()> {
    writeln!(out, "{a:<10} {b:<20} {c:<20} {d:<20} {e:<10} {f:<10}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pub_block_then_sub_rows_with_the_subbefore_client() {
        let body = "Pub\u{1}0\u{1}DefaultRegion\u{1}pg\u{1}T\u{1}ID\u{1}null\u{1}null\u{1}b:1\u{1}5\u{1}3\u{1}0\u{1}OFF\u{1}true\u{1}1.2.3.4@p\u{2}\
                    SubBefore\u{1}0\u{1}null\u{1}cg\u{1}R\u{1}ID\u{1}0\u{1}null\u{1}5.6.7.8@c\u{2}\
                    SubAfter\u{1}R\u{1}ID\u{1}7\u{1}false\u{1}null\u{1}4\u{1}0\u{1}cg\u{2}";
        let views = views_for("ID", body).unwrap();
        let mut out = Vec::new();
        print_trace(&views, "9.9.9.9", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#Type      #ProducerGroup       #ClientHost          #SendTime            #CostTimes #Status   ");
        assert!(
            lines[1].starts_with("Pub        pg                   1.2.3.4@p            "),
            "{text}"
        );
        assert!(lines[1].ends_with("3ms        success   "), "{text}");
        assert_eq!(lines[2], "");
        assert!(lines[3].starts_with("#Type      #ConsumerGroup"), "{text}");
        assert!(
            lines[4].starts_with("Sub        cg                   5.6.7.8@c "),
            "{text}"
        );
        assert!(lines[4].ends_with("7ms        failed    "), "{text}");
    }
}
