//! The broker: builds every manager, the store and both listeners (listenPort and the VIP
//! channel listenPort-2), starts the periodic tasks (register, offset flush, client expiry) and
//! shuts down cleanly. Mirrors `BrokerController`. Book: Part II, "Inside a broker".

use crate::client::consumer_manager::ConsumerManager;
use crate::client::producer_manager::ProducerManager;
use crate::client::rebalance_lock::RebalanceLockManager;
use crate::config::live::LiveConfig;
use crate::config::{BrokerConfig, BrokerRole};
use crate::filter::manager::ConsumerFilterManager;
use crate::flow_control::FlowControl;
use crate::long_polling::LongPolling;
use crate::offset::ConsumerOffsetManager;
use crate::processor::BrokerProcessor;
use crate::replication::Replication;
use crate::schedule::ScheduleService;
use crate::slave_sync::SlaveSync;
use crate::stats::{DailyTotals, GroupGetNums, TpsSampler};
use crate::subscription::SubscriptionGroupManager;
use crate::topic::TopicConfigManager;
use crate::transaction::TransactionService;
use anyhow::Context;
use rmq_remoting::{RemotingClient, RemotingServer};
use rmq_store::DefaultMessageStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A running broker: its configuration, its store, the managers of its tables, the clients
/// it tracks, its replication mode and its statistics. Built by [`Broker::open`], served by
/// [`Broker::run`]; every request handler gets an `Arc<Broker>` and reaches the parts it needs
/// through the accessors below.
pub struct Broker {
    config: LiveConfig,
    store: Arc<DefaultMessageStore>,
    topics: TopicConfigManager,
    offsets: ConsumerOffsetManager,
    subscriptions: SubscriptionGroupManager,
    consumers: ConsumerManager,
    producers: ProducerManager,
    locks: RebalanceLockManager,
    long_polling: Arc<LongPolling>,
    flow: FlowControl,
    store_host: SocketAddr,
    register_now: Notify,
    client: RemotingClient,
    boot_time: Instant,
    schedule: ScheduleService,
    stats: BrokerStats,
    filters: Arc<ConsumerFilterManager>,
    transactions: TransactionService,
    replication: Replication,
    slave_sync: SlaveSync,
    /// `Some` when `aclEnable=true` (see [`crate::acl`]).
    acl: Option<Arc<crate::acl::AclValidator>>,
}

/// The broker's traffic figures (`brokerStatus`, `clusterList`, `consumerProgress`).
#[derive(Default)]
pub struct BrokerStats {
    /// Put and get rates over 10, 60 and 600 s, from once-a-second samples.
    pub tps: TpsSampler,
    /// Messages handed out per topic@group (`consumeTps`).
    pub group_gets: GroupGetNums,
    /// Messages stored per topic (`TOPIC_PUT_NUMS`, `statsAll`'s InTPS).
    pub topic_puts: crate::stats::StatsItemSet,
    /// Put/get totals at the last two midnights (yesterday's traffic).
    pub daily: DailyTotals,
}

impl Broker {
    /// Opens the store and loads the config files. `config_file` is the file the
    /// configuration came from (`-c`); UPDATE_BROKER_CONFIG rewrites it, or
    /// `<storePathRootDir>/config/broker.properties` when there is none.
    pub fn open(cfg: BrokerConfig, config_file: Option<PathBuf>) -> anyhow::Result<Arc<Broker>> {
        let ip: std::net::IpAddr = cfg
            .broker_ip1
            .parse()
            .with_context(|| format!("brokerIP1 {:?} is not an IP address", cfg.broker_ip1))?;
        let store_host = SocketAddr::new(ip, cfg.listen_port);
        let bloom = rmq_filter::BloomFilter::create_by_fn(
            cfg.filter.max_error_rate_of_bloom_filter,
            cfg.filter.expect_consumer_num_use_filter,
        )
        .map_err(|e| {
            anyhow::anyhow!("maxErrorRateOfBloomFilter/expectConsumerNumUseFilter: {e}")
        })?;
        let filters = Arc::new(ConsumerFilterManager::load(
            &cfg.config_dir(),
            bloom,
            cfg.filter.filter_data_clean_time_span_ms,
        ));
        let mut store_cfg = cfg.store.clone();
        // as 4.8.0's ConsumerFilterManager constructor: the ext bit map is the bloom's m bits
        store_cfg.bit_map_length_consume_queue_ext = bloom.m as u32;
        // In DLedger mode this opens the member's data files first: they are the commit log.
        let replication = Replication::from_config(&cfg, &store_cfg, store_host)?;
        let store = replication.open_store(&cfg, store_cfg)?;
        store.set_bit_map_calculator(crate::filter::bit_map_calculator(
            filters.clone(),
            cfg.filter.enable_calc_filter_bit_map,
        ));
        let levels = crate::schedule::DelayLevels::parse(&cfg.store.message_delay_level)?;
        let transactions = TransactionService::default();
        let schedule = ScheduleService::load(&cfg.config_dir(), levels)?;
        let topics = TopicConfigManager::new(&cfg)?;
        let offsets = ConsumerOffsetManager::load(&cfg.config_dir())?;
        let subscriptions =
            SubscriptionGroupManager::load(&cfg.config_dir(), cfg.auto_create_subscription_group)?;
        let long_polling = Arc::new(LongPolling::default());
        let lp = long_polling.clone();
        let delay_arrivals = schedule.arrivals();
        store.set_arrival_listener(Arc::new(move |topic, qid, _max, _tags| {
            if topic == crate::topic::SCHEDULE_TOPIC {
                delay_arrivals.arrived(qid);
            }
            lp.on_arrival(topic, qid)
        }));
        let flow = FlowControl::new(
            cfg.send_message_thread_pool_nums,
            cfg.send_thread_pool_queue_capacity,
            cfg.wait_time_in_send_queue_ms,
            cfg.store.os_page_cache_busy_timeout_ms,
        );
        let slave_sync = SlaveSync::new(replication.broker_role() == BrokerRole::Slave);
        let acl = crate::acl::open(&cfg)?;
        let client = RemotingClient::new();
        crate::acl::sign_own_requests(&cfg, &client);
        Ok(Arc::new(Broker {
            config: LiveConfig::new(
                cfg.clone(),
                config_file.unwrap_or_else(|| cfg.default_properties_path()),
            ),
            store,
            topics,
            offsets,
            subscriptions,
            consumers: ConsumerManager::default(),
            producers: ProducerManager::default(),
            locks: RebalanceLockManager::default(),
            long_polling,
            flow,
            store_host,
            register_now: Notify::new(),
            client,
            boot_time: Instant::now(),
            schedule,
            stats: BrokerStats::default(),
            transactions,
            filters,
            replication,
            slave_sync,
            acl,
        }))
    }

    /// Binds both ports, registers, runs until `shutdown` resolves, then unregisters and flushes.
    pub async fn run(
        self: Arc<Self>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let ip = self.store_host.ip();
        let main = RemotingServer::bind(SocketAddr::new(ip, self.config().listen_port))
            .await
            .with_context(|| format!("binding {}:{}", ip, self.config().listen_port))?
            .with_max_frame_len(self.config().frame_max_length);
        let vip_port = self.config().listen_port.saturating_sub(2);
        let vip = RemotingServer::bind(SocketAddr::new(ip, vip_port))
            .await
            .with_context(|| format!("binding VIP channel {ip}:{vip_port}"))?
            .with_max_frame_len(self.config().frame_max_length);
        let processor = Arc::new(BrokerProcessor::new(self.clone()));
        let p1: Arc<dyn rmq_remoting::RequestProcessor> = processor.clone();
        let p2: Arc<dyn rmq_remoting::RequestProcessor> = processor;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut rx1 = stop_rx.clone();
        let mut rx2 = stop_rx.clone();
        let s1 = tokio::spawn(main.serve_until(p1, async move {
            let _ = rx1.wait_for(|v| *v).await;
        }));
        let s2 = tokio::spawn(vip.serve_until(p2, async move {
            let _ = rx2.wait_for(|v| *v).await;
        }));

        let replication_tasks = self.replication.start(&self).await?;
        // Idle while master; copies the master's config tables while slave.
        let slave_sync = tokio::spawn(crate::slave_sync::run(self.clone()));
        crate::register::register_all(&self).await;
        let reg = tokio::spawn(crate::register::register_loop(self.clone()));
        let periodic = tokio::spawn(self.clone().periodic());
        let acl_watch = self.acl.clone().map(|a| tokio::spawn(a.watch()));
        // The loops idle while this broker is a slave (4.8.0 handleScheduleMessageService).
        let mut schedule_tasks = crate::schedule::start(&self);
        // Idles while this broker is a slave, like the delay loops.
        schedule_tasks.push(crate::transaction::check::start(&self));
        let ns = self.config().namesrv_addr.clone().unwrap_or_default();
        tracing::info!(
            "The broker[{}, {}] boot success. serializeType=JSON and name server is {}",
            self.config().broker_name,
            self.config().broker_addr(),
            ns
        );
        shutdown.await;
        tracing::info!("shutting down broker {}", self.config().broker_name);
        // A DLedger leader hands over first, while it still serves and registers.
        self.replication.hand_over(&self).await;
        reg.abort();
        periodic.abort();
        slave_sync.abort();
        if let Some(w) = &acl_watch {
            w.abort();
        }
        for t in &schedule_tasks {
            t.abort();
        }
        self.replication.shutdown(replication_tasks).await;
        crate::register::unregister_all(&self).await;
        let _ = stop_tx.send(true);
        let _ = s1.await;
        let _ = s2.await;
        self.offsets.persist();
        self.topics.persist();
        self.subscriptions.persist();
        self.schedule.persist();
        self.filters.persist();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.shutdown()).await?;
        Ok(())
    }

    /// The configuration in force (broker.conf, with the keys UPDATE_BROKER_CONFIG changed at
    /// run time).
    pub fn config(&self) -> Arc<BrokerConfig> {
        self.config.current()
    }

    /// The configuration's data version as JSON (GET_BROKER_CONFIG's `version`).
    pub fn config_version(&self) -> String {
        self.config.version_json()
    }

    /// UPDATE_BROKER_CONFIG: applies `props` (see [`LiveConfig::update`]) and, when they
    /// change `brokerPermission`, bumps the topic table's version and re-registers at once,
    /// as 4.8.0 does (so routes steer clients by the new permission).
    pub fn update_config(
        &self,
        props: &std::collections::BTreeMap<String, String>,
    ) -> Result<crate::config::Update, crate::config::ConfigError> {
        let permission = self.config().broker_permission;
        let update = self.config.update(props)?;
        tracing::info!(
            file = %self.config.path().display(),
            "updateBrokerConfig: in force now {:?}; at the next start {:?}; unknown, ignored {:?}",
            update.live,
            update.at_restart,
            update.unknown
        );
        if self.config().broker_permission != permission {
            self.topics.bump_data_version();
            self.register_now();
        }
        Ok(update)
    }

    /// The message store: commit log, consume queues, index.
    pub fn store(&self) -> &Arc<DefaultMessageStore> {
        &self.store
    }

    /// The topic table (`config/topics.json`).
    pub fn topics(&self) -> &TopicConfigManager {
        &self.topics
    }

    /// The consumer offsets (`config/consumerOffset.json`).
    pub fn offsets(&self) -> &ConsumerOffsetManager {
        &self.offsets
    }

    /// The subscription groups (`config/subscriptionGroup.json`).
    pub fn subscriptions(&self) -> &SubscriptionGroupManager {
        &self.subscriptions
    }

    /// The consumer clients connected now, by group.
    pub fn consumers(&self) -> &ConsumerManager {
        &self.consumers
    }

    /// The producer clients connected now, by group.
    pub fn producers(&self) -> &ProducerManager {
        &self.producers
    }

    /// Which client holds which queue of an ordered consumer group.
    pub fn locks(&self) -> &RebalanceLockManager {
        &self.locks
    }

    /// The pulls parked until a message arrives.
    pub fn long_polling(&self) -> &LongPolling {
        &self.long_polling
    }

    /// The send path's worker pool and its SYSTEM_BUSY answers.
    pub fn flow(&self) -> &FlowControl {
        &self.flow
    }

    /// `brokerIP1:listenPort`, the store host written into every record.
    pub fn store_host(&self) -> SocketAddr {
        self.store_host
    }

    /// Asks the registration loop to register with the name servers now (after a topic
    /// change, a role change or a permission change).
    pub fn register_now(&self) {
        self.register_now.notify_one();
    }

    /// Resolves when [`Broker::register_now`] was called (for the registration loop).
    pub async fn registration_requested(&self) {
        self.register_now.notified().await
    }

    /// The client this broker calls name servers and its master with.
    pub fn client(&self) -> &RemotingClient {
        &self.client
    }

    /// When this broker started (for uptime and `bootTimestamp`).
    pub fn boot_time(&self) -> Instant {
        self.boot_time
    }

    /// The delay queue's delivery positions and levels.
    pub fn schedule(&self) -> &ScheduleService {
        &self.schedule
    }

    /// Traffic figures.
    pub fn stats(&self) -> &BrokerStats {
        &self.stats
    }

    /// SQL92 filter data per (topic, group), persisted to `config/consumerFilter.json`.
    pub fn filters(&self) -> &Arc<ConsumerFilterManager> {
        &self.filters
    }

    /// Transaction settings and the choice of a producer to ask (see [`crate::transaction`]).
    pub fn transactions(&self) -> &TransactionService {
        &self.transactions
    }

    /// The cluster mode: where puts go, and this broker's id and role.
    pub fn replication(&self) -> &Replication {
        &self.replication
    }

    /// A slave's copy of its master's config tables (`SlaveSynchronize`).
    pub fn slave_sync(&self) -> &SlaveSync {
        &self.slave_sync
    }

    /// The ACL validator, when `aclEnable=true`.
    pub fn acl(&self) -> Option<&Arc<crate::acl::AclValidator>> {
        self.acl.as_ref()
    }

    /// The brokerId this broker registers with now.
    pub fn broker_id(&self) -> i64 {
        self.replication.broker_id()
    }

    /// The role this broker plays now.
    pub fn broker_role(&self) -> BrokerRole {
        self.replication.broker_role()
    }

    /// Whether this broker is a master now (it serves writes and commits offsets).
    pub fn is_master(&self) -> bool {
        self.replication.is_master()
    }

    /// Switches id and role (DLedger leadership changes) and re-registers at once.
    pub fn change_role(&self, broker_id: i64, role: BrokerRole) {
        if let Some(old) = self.replication.set_role(broker_id, role) {
            tracing::info!(
                "role change: brokerId {} -> {broker_id}, {:?} -> {role:?}",
                old.0,
                old.1
            );
            if (old.1 == BrokerRole::Slave) != (role == BrokerRole::Slave) {
                self.slave_sync.handle_role(role);
            }
            self.register_now();
        }
    }

    /// Offset flush every flushConsumerOffsetInterval, client expiry scan every 10 s.
    async fn periodic(self: Arc<Self>) {
        let flush = Duration::from_millis(self.config().flush_consumer_offset_interval_ms.max(100));
        let mut flush_tick = tokio::time::interval(flush);
        let mut scan_tick = tokio::time::interval(Duration::from_secs(10));
        let mut tps_tick = tokio::time::interval(Duration::from_secs(1));
        let mut stats_tick: u64 = 0;
        let midnight = tokio::time::sleep(crate::stats::until_next_midnight(&chrono::Local::now()));
        tokio::pin!(midnight);
        loop {
            tokio::select! {
                _ = &mut midnight => {
                    self.stats.daily.record(
                        self.store.put_times.load(std::sync::atomic::Ordering::Relaxed),
                        self.store.get_times.load(std::sync::atomic::Ordering::Relaxed),
                    );
                    // aim past the midnight just handled: a timer that fired a little early
                    // (wall clock stepped back) must not record again seconds later
                    let skip = Duration::from_secs(60);
                    let later = chrono::Local::now() + chrono::Duration::seconds(60);
                    let next = skip + crate::stats::until_next_midnight(&later);
                    midnight.as_mut().reset(tokio::time::Instant::now() + next);
                }
                _ = flush_tick.tick() => {
                    let b = self.clone();
                    let _ = tokio::task::spawn_blocking(move || b.offsets().persist()).await;
                }
                _ = tps_tick.tick() => {
                    stats_tick += 1;
                    self.stats.group_gets.0.sample(stats_tick);
                    self.stats.topic_puts.sample(stats_tick);
                    self.stats.tps.sample(
                        self.store.put_times.load(std::sync::atomic::Ordering::Relaxed),
                        self.store.get_times.load(std::sync::atomic::Ordering::Relaxed),
                    );
                }
                _ = scan_tick.tick() => {
                    for g in self.consumers.scan_expired() {
                        self.consumers.notify_ids_changed(&g);
                        crate::filter::on_group_maybe_gone(&self, &g);
                    }
                    let b = self.clone();
                    let _ = tokio::task::spawn_blocking(move || b.filters().persist()).await;
                    self.producers.scan_expired();
                }
            }
        }
    }
}
