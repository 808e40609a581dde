//! `/api/dashboard`: broker and topic TPS over time, and the top topics.
//!
//! Brokers keep no history a console could ask for: GET_BROKER_RUNTIME_INFO (28)
//! answers only the rates of the last 10 s, 60 s and 600 s, and GET_TOPIC_STATS_INFO
//! (202) only each queue's offsets now. So the console samples them itself. A
//! background task ([`Dashboard::start`]) asks every `--sample-ms` (5 s by default):
//! the runtime info of each broker group's master (its `putTps` and
//! `getTransferedTps`), and the stats of every topic that is not a system topic (the
//! sum of its queues' max offsets: every message ever written to it). A topic's TPS
//! between two samples is the growth of that sum divided by the time between them.
//! The history is bounded ([`MAX_SAMPLES`]); a restart of the console starts it afresh.
//! Book: Part III "The web console" (Dashboard).
//! Mirrors rocketmq-console's `DashboardController` and `DashboardCollectTask`, which
//! samples the same numbers every minute into files (this one keeps them in memory).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use rmq_admin::AdminClient;
use serde::Serialize;

use crate::cluster::{first_tps, now_millis};
use crate::error::ApiResult;
use crate::server::{fan_out, AppState};
use crate::topics::topic_kind;

/// The most samples kept: 30 minutes at the default 5 s.
pub const MAX_SAMPLES: usize = 360;
/// The default time between samples.
pub const DEFAULT_SAMPLE_MS: u64 = 5000;
/// How many topics the dashboard lists and draws.
pub const TOP_TOPICS: usize = 10;

/// One sample of the cluster's rates and the topics' message counts.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// When it was taken, ms since the epoch.
    pub timestamp_ms: i64,
    /// `(broker name, master address)` to `(put TPS, get TPS)` as the broker reports them.
    pub brokers: BTreeMap<(String, String), (f64, f64)>,
    /// Topic to the sum of its queues' max offsets.
    pub topic_messages: BTreeMap<String, i64>,
}

/// The sampled history, shared by the sampling task and the handler.
#[derive(Clone, Default)]
pub struct Dashboard {
    history: Arc<Mutex<History>>,
}

#[derive(Default)]
struct History {
    samples: VecDeque<Sample>,
    interval_ms: u64,
    last_error: Option<String>,
}

/// The reply of `/api/dashboard`.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DashboardView {
    /// The time between samples, ms.
    pub interval_ms: u64,
    /// When each sample was taken, oldest first; every series below has one value per entry.
    pub timestamps: Vec<i64>,
    /// Every broker group's master seen in the window.
    pub brokers: Vec<BrokerSeries>,
    /// The busiest topics of the window (most messages written), at most [`TOP_TOPICS`].
    pub top_topics: Vec<TopicSeries>,
    /// Why the last sample was incomplete, if it was.
    pub error: Option<String>,
}

/// One broker's rates over time.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BrokerSeries {
    /// The broker name.
    pub broker_name: String,
    /// Its master's address.
    pub addr: String,
    /// Put TPS per sample (`None`: the broker did not answer then).
    pub put_tps: Vec<Option<f64>>,
    /// Get TPS per sample.
    pub get_tps: Vec<Option<f64>>,
}

/// One topic's rate over time.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TopicSeries {
    /// The topic.
    pub topic: String,
    /// Messages per second between the previous sample and this one (`None` for the
    /// first sample, or when either sample lacks the topic).
    pub tps: Vec<Option<f64>>,
    /// Messages written during the window.
    pub window_messages: i64,
    /// Messages ever written (the sum of its queues' max offsets, latest sample).
    pub total_messages: i64,
}

impl Dashboard {
    /// Starts the sampling task (one sample every `every`) and returns the shared history.
    pub fn start(admin: AdminClient, every: Duration) -> Dashboard {
        let dashboard = Dashboard::default();
        if let Ok(mut h) = dashboard.history.lock() {
            h.interval_ms = every.as_millis() as u64;
        }
        let shared = dashboard.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // A sample never takes longer than the interval (or 10 s): a slow cluster
                // delays the next one instead of piling up requests.
                let deadline = every.max(Duration::from_secs(10));
                let result = tokio::time::timeout(deadline, take_sample(&admin)).await;
                let (sample, error) = match result {
                    Ok(r) => r,
                    Err(_) => (
                        None,
                        Some(format!("sampling took longer than {deadline:?}")),
                    ),
                };
                shared.push(sample, error);
            }
        });
        dashboard
    }

    fn push(&self, sample: Option<Sample>, error: Option<String>) {
        let Ok(mut h) = self.history.lock() else {
            return;
        };
        if let Some(s) = sample {
            h.samples.push_back(s);
            while h.samples.len() > MAX_SAMPLES {
                h.samples.pop_front();
            }
        }
        h.last_error = error;
    }

    /// The view of the history as it is now.
    pub fn view(&self) -> DashboardView {
        match self.history.lock() {
            Ok(h) => {
                let samples: Vec<&Sample> = h.samples.iter().collect();
                let mut v = build_view(&samples, h.interval_ms);
                v.error = h.last_error.clone();
                v
            }
            Err(_) => build_view(&[], 0),
        }
    }
}

// ANCHOR: take_sample
/// One sample: every master's runtime rates, and every non-system topic's message count.
/// Whatever could not be read is left out and named in the error.
async fn take_sample(admin: &AdminClient) -> (Option<Sample>, Option<String>) {
    let info = match admin.examine_broker_cluster_info().await {
        Ok(i) => i,
        Err(e) => return (None, Some(format!("cluster info: {e}"))),
    };
    let mut errors = Vec::new();
    let mut sample = Sample {
        timestamp_ms: now_millis(),
        ..Sample::default()
    };
    let masters: Vec<(String, String)> = info
        .broker_addr_table
        .values()
        .filter_map(|bd| Some((bd.broker_name.clone(), bd.master_addr()?.to_string())))
        .collect();
    let rates = fan_out(masters.into_iter().map(|(name, addr)| async move {
        let r = admin.fetch_broker_runtime_stats(&addr).await;
        (name, addr, r)
    }))
    .await;
    for (name, addr, r) in rates {
        match r {
            Ok(kv) => {
                let t = &kv.table;
                let rates = (
                    first_tps(t.get("putTps")),
                    first_tps(t.get("getTransferedTps")),
                );
                sample.brokers.insert((name, addr), rates);
            }
            Err(e) => errors.push(format!("{addr}: {e}")),
        }
    }
    let own: BTreeSet<String> = info
        .cluster_addr_table
        .into_keys()
        .chain(info.broker_addr_table.into_keys())
        .collect();
    match admin.fetch_all_topic_list().await {
        Ok(list) => {
            let topics = list
                .topic_list
                .into_iter()
                .filter(|t| topic_kind(t, &own) != "system");
            let stats = fan_out(topics.map(|topic| async move {
                let r = admin.examine_topic_stats(&topic).await;
                (topic, r)
            }))
            .await;
            for (topic, r) in stats {
                match r {
                    Ok(s) => {
                        let total = s.offset_table.0.iter().map(|(_, o)| o.max_offset).sum();
                        sample.topic_messages.insert(topic, total);
                    }
                    // A topic without queues yet (just created, or being deleted) is skipped quietly.
                    Err(e) if crate::consumers::absent(&e) => {}
                    Err(e) => errors.push(format!("{topic}: {e}")),
                }
            }
        }
        Err(e) => errors.push(format!("topic list: {e}")),
    }
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    (Some(sample), error)
}
// ANCHOR_END: take_sample

// ANCHOR: topic_rates
/// Series aligned on the samples: each broker's reported rates, and each topic's rate
/// computed from the growth of its message count between consecutive samples.
pub fn build_view(samples: &[&Sample], interval_ms: u64) -> DashboardView {
    let timestamps: Vec<i64> = samples.iter().map(|s| s.timestamp_ms).collect();
    let broker_keys: BTreeSet<&(String, String)> =
        samples.iter().flat_map(|s| s.brokers.keys()).collect();
    let brokers = broker_keys
        .into_iter()
        .map(|key| BrokerSeries {
            broker_name: key.0.clone(),
            addr: key.1.clone(),
            put_tps: samples
                .iter()
                .map(|s| s.brokers.get(key).map(|r| r.0))
                .collect(),
            get_tps: samples
                .iter()
                .map(|s| s.brokers.get(key).map(|r| r.1))
                .collect(),
        })
        .collect();
    let topic_names: BTreeSet<&String> = samples
        .iter()
        .flat_map(|s| s.topic_messages.keys())
        .collect();
    let mut topics: Vec<TopicSeries> = topic_names
        .into_iter()
        .map(|topic| {
            let count = |s: &Sample| s.topic_messages.get(topic).copied();
            let mut tps = vec![None];
            for pair in samples.windows(2) {
                let seconds = (pair[1].timestamp_ms - pair[0].timestamp_ms) as f64 / 1000.0;
                tps.push(match (count(pair[0]), count(pair[1])) {
                    // A deleted and re-created topic starts again from 0: no negative rate.
                    (Some(a), Some(b)) if seconds > 0.0 => Some((b - a).max(0) as f64 / seconds),
                    _ => None,
                });
            }
            tps.truncate(samples.len());
            let counts: Vec<i64> = samples.iter().filter_map(|s| count(s)).collect();
            let first = counts.first().copied().unwrap_or(0);
            let last = counts.last().copied().unwrap_or(0);
            TopicSeries {
                topic: topic.clone(),
                tps,
                window_messages: (last - first).max(0),
                total_messages: last,
            }
        })
        .collect();
    topics.sort_by(|a, b| {
        (b.window_messages, b.total_messages, &a.topic).cmp(&(
            a.window_messages,
            a.total_messages,
            &b.topic,
        ))
    });
    topics.truncate(TOP_TOPICS);
    DashboardView {
        interval_ms,
        timestamps,
        brokers,
        top_topics: topics,
        error: None,
    }
}
// ANCHOR_END: topic_rates

/// `GET /api/dashboard`: the sampled history (no remoting call: the sampler made them).
pub async fn dashboard(State(st): State<AppState>) -> ApiResult<DashboardView> {
    Ok(Json(st.dashboard.view()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: i64, topics: &[(&str, i64)]) -> Sample {
        let mut s = Sample {
            timestamp_ms: t,
            ..Sample::default()
        };
        s.brokers
            .insert(("b".into(), "127.0.0.1:10911".into()), (t as f64, 1.0));
        for (k, v) in topics {
            s.topic_messages.insert(k.to_string(), *v);
        }
        s
    }

    #[test]
    fn topic_rates_come_from_the_growth_between_samples() {
        let a = sample(0, &[("T", 100), ("Quiet", 7)]);
        let b = sample(2000, &[("T", 110), ("Quiet", 7), ("New", 5)]);
        let c = sample(4000, &[("T", 150), ("Quiet", 7), ("New", 9)]);
        let v = build_view(&[&a, &b, &c], 2000);
        assert_eq!(v.timestamps, [0, 2000, 4000]);
        let names: Vec<&str> = v.top_topics.iter().map(|t| t.topic.as_str()).collect();
        assert_eq!(names, ["T", "New", "Quiet"]);
        assert_eq!(v.top_topics[0].tps, [None, Some(5.0), Some(20.0)]);
        assert_eq!(v.top_topics[0].window_messages, 50);
        assert_eq!(v.top_topics[0].total_messages, 150);
        // A topic first seen in the second sample has no rate before the third.
        assert_eq!(v.top_topics[1].tps, [None, None, Some(2.0)]);
        assert_eq!(v.top_topics[2].tps, [None, Some(0.0), Some(0.0)]);
        assert_eq!(v.brokers.len(), 1);
        assert_eq!(
            v.brokers[0].put_tps,
            [Some(0.0), Some(2000.0), Some(4000.0)]
        );
    }

    #[test]
    fn a_recreated_topic_has_no_negative_rate_and_history_is_bounded() {
        let a = sample(0, &[("T", 100)]);
        let b = sample(1000, &[("T", 3)]);
        let v = build_view(&[&a, &b], 1000);
        assert_eq!(v.top_topics[0].tps, [None, Some(0.0)]);
        assert_eq!(v.top_topics[0].window_messages, 0);

        let d = Dashboard::default();
        for i in 0..(MAX_SAMPLES as i64 + 5) {
            d.push(Some(sample(i * 1000, &[])), None);
        }
        let v = d.view();
        assert_eq!(v.timestamps.len(), MAX_SAMPLES);
        assert_eq!(v.timestamps[0], 5000);
        assert!(build_view(&[], 5000).top_topics.is_empty());
    }
}
