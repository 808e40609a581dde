//! The broker: builds every manager, the store and both listeners (listenPort and the VIP
//! channel listenPort-2), starts the periodic tasks (register, offset flush, client expiry) and
//! shuts down cleanly. Mirrors `BrokerController`. Book: Part II, "Inside a broker".

use crate::client::consumer_manager::ConsumerManager;
use crate::client::producer_manager::ProducerManager;
use crate::client::rebalance_lock::RebalanceLockManager;
use crate::config::{BrokerConfig, BrokerRole};
use crate::flow_control::FlowControl;
use crate::long_polling::LongPolling;
use crate::offset::ConsumerOffsetManager;
use crate::processor::BrokerProcessor;
use crate::schedule::ScheduleService;
use crate::subscription::SubscriptionGroupManager;
use crate::topic::TopicConfigManager;
use anyhow::Context;
use rmq_remoting::{RemotingClient, RemotingServer};
use rmq_store::DefaultMessageStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub struct Broker {
    pub cfg: BrokerConfig,
    pub store: Arc<DefaultMessageStore>,
    pub topics: TopicConfigManager,
    pub offsets: ConsumerOffsetManager,
    pub subscriptions: SubscriptionGroupManager,
    pub consumers: ConsumerManager,
    pub producers: ProducerManager,
    pub locks: RebalanceLockManager,
    pub long_polling: Arc<LongPolling>,
    pub flow: FlowControl,
    pub store_host: SocketAddr,
    pub register_now: Notify,
    pub client: RemotingClient,
    pub boot_time: Instant,
    pub schedule: ScheduleService,
    pub tps: crate::stats::TpsSampler,
    /// Messages handed out per topic@group (consumeTps).
    pub group_gets: crate::stats::GroupGetNums,
    /// SQL92 filter data per (topic, group), persisted to config/consumerFilter.json.
    pub filters: Arc<crate::filter::manager::ConsumerFilterManager>,
    /// Put/get totals at the last two midnights (brokerStatus).
    pub daily: crate::stats::DailyTotals,
    /// Transaction settings and check-back channel choice (see [`crate::transaction`]).
    pub transactions: crate::transaction::TransactionService,
    /// The id and role the broker currently registers with; DLedger changes them at run time.
    role: parking_lot::RwLock<(i64, BrokerRole)>,
    dledger_settings: Option<crate::dledger_mode::DLedgerSettings>,
    /// The DLedger member in DLedger mode (its store opened in `open`, running from `run`).
    pub dledger: std::sync::OnceLock<Arc<crate::dledger_mode::DLedgerMode>>,
    /// Set once classic master/slave replication runs (`run`; not in DLedger mode).
    pub ha: std::sync::OnceLock<Arc<crate::ha::HaService>>,
    /// A slave's copy of its master's config tables (`SlaveSynchronize`).
    pub slave_sync: crate::slave_sync::SlaveSync,
}

impl Broker {
    /// Opens the store and loads the config files.
    pub fn open(cfg: BrokerConfig) -> anyhow::Result<Arc<Broker>> {
        let dledger_settings = crate::dledger_mode::DLedgerSettings::from_config(&cfg)?;
        let ip: std::net::IpAddr = cfg
            .broker_ip1
            .parse()
            .with_context(|| format!("brokerIP1 {:?} is not an IP address", cfg.broker_ip1))?;
        let store_host = SocketAddr::new(ip, cfg.listen_port);
        // In DLedger mode the member's data files are the commit log: open them first.
        let dledger = match &dledger_settings {
            Some(s) => Some(Arc::new(crate::dledger_mode::DLedgerMode::open(
                &cfg,
                s.clone(),
                store_host,
            )?)),
            None => None,
        };
        // ANCHOR: filter_setup
        let bloom = rmq_filter::BloomFilter::create_by_fn(
            cfg.filter.max_error_rate_of_bloom_filter,
            cfg.filter.expect_consumer_num_use_filter,
        )
        .map_err(|e| {
            anyhow::anyhow!("maxErrorRateOfBloomFilter/expectConsumerNumUseFilter: {e}")
        })?;
        let filters = Arc::new(crate::filter::manager::ConsumerFilterManager::load(
            &cfg.config_dir(),
            bloom,
            cfg.filter.filter_data_clean_time_span_ms,
        ));
        let mut store_cfg = crate::store_config::store_config(&cfg)?;
        // as 4.8.0's ConsumerFilterManager constructor: the ext bit map is the bloom's m bits
        store_cfg.bit_map_length_consume_queue_ext = bloom.m as u32;
        let store = match &dledger {
            Some(dl) => dl.open_message_store(store_cfg),
            None => DefaultMessageStore::open(store_cfg).map_err(anyhow::Error::from),
        }
        .with_context(|| format!("opening store in {}", cfg.store_path_root_dir.display()))?;
        store.set_bit_map_calculator(crate::filter::bit_map_calculator(
            filters.clone(),
            cfg.filter.enable_calc_filter_bit_map,
        ));
        // ANCHOR_END: filter_setup
        // A DLedger member starts as a follower; leadership makes it brokerId 0 later.
        let (cfg_id, cfg_role) = match &dledger_settings {
            Some(s) => (s.follower_broker_id()?, BrokerRole::Slave),
            None => (cfg.broker_id, cfg.broker_role),
        };
        let levels = crate::schedule::levels_from_config(&cfg.raw)?;
        let transactions = crate::transaction::TransactionService::new(
            crate::transaction::TransactionConfig::from_raw(&cfg.raw)?,
        );
        let schedule = ScheduleService::load(&cfg.config_dir(), levels)?;
        let topics = TopicConfigManager::new(&cfg)?;
        let offsets = ConsumerOffsetManager::load(&cfg.config_dir())?;
        let subscriptions =
            SubscriptionGroupManager::load(&cfg.config_dir(), cfg.auto_create_subscription_group)?;
        let long_polling = Arc::new(LongPolling::default());
        let lp = long_polling.clone();
        store.set_arrival_listener(Arc::new(move |topic, qid, _max, _tags| {
            lp.on_arrival(topic, qid)
        }));
        let flow = FlowControl::new(
            cfg.send_message_thread_pool_nums,
            cfg.send_thread_pool_queue_capacity,
            cfg.wait_time_mills_in_send_queue,
            cfg.os_page_cache_busy_time_out_mills,
        );
        Ok(Arc::new(Broker {
            cfg,
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
            client: RemotingClient::new(),
            boot_time: Instant::now(),
            schedule,
            tps: Default::default(),
            group_gets: Default::default(),
            daily: Default::default(),
            transactions,
            filters,
            role: parking_lot::RwLock::new((cfg_id, cfg_role)),
            slave_sync: crate::slave_sync::SlaveSync::new(cfg_role == BrokerRole::Slave),
            dledger_settings,
            dledger: dledger.map(std::sync::OnceLock::from).unwrap_or_default(),
            ha: std::sync::OnceLock::new(),
        }))
    }

    /// Binds both ports, registers, runs until `shutdown` resolves, then unregisters and flushes.
    pub async fn run(
        self: Arc<Self>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let ip = self.store_host.ip();
        let main = RemotingServer::bind(SocketAddr::new(ip, self.cfg.listen_port))
            .await
            .with_context(|| format!("binding {}:{}", ip, self.cfg.listen_port))?
            .with_max_frame_len(self.cfg.max_message_size + 1024 * 1024);
        let vip_port = self.cfg.listen_port.saturating_sub(2);
        let vip = RemotingServer::bind(SocketAddr::new(ip, vip_port))
            .await
            .with_context(|| format!("binding VIP channel {ip}:{vip_port}"))?
            .with_max_frame_len(self.cfg.max_message_size + 1024 * 1024);
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

        let mut dledger_tasks = Vec::new();
        if let Some(dl) = self.dledger.get() {
            dledger_tasks = dl.start(&self).await?;
        }
        let mut ha_tasks = Vec::new();
        if self.dledger_settings.is_none() {
            let file_size = self.store.config().mapped_file_size_commit_log as i64;
            let ha =
                crate::ha::HaService::new(crate::ha::HaConfig::from_broker(&self.cfg, file_size)?);
            let _ = self.ha.set(ha.clone());
            ha_tasks = crate::ha::start(&self, ha).await?;
        }
        // Idle while master; copies the master's config tables while slave.
        let slave_sync = tokio::spawn(crate::slave_sync::run(self.clone()));
        crate::register::register_all(&self).await;
        let reg = tokio::spawn(crate::register::register_loop(self.clone()));
        let periodic = tokio::spawn(self.clone().periodic());
        // The loops idle while this broker is a slave (4.8.0 handleScheduleMessageService).
        let mut schedule_tasks = crate::schedule::start(&self);
        // Idles while this broker is a slave, like the delay loops.
        schedule_tasks.push(crate::transaction::check::start(&self));
        let ns = self.cfg.namesrv_addr.clone().unwrap_or_default();
        tracing::info!(
            "The broker[{}, {}] boot success. serializeType=JSON and name server is {}",
            self.cfg.broker_name,
            self.cfg.broker_addr(),
            ns
        );
        shutdown.await;
        tracing::info!("shutting down broker {}", self.cfg.broker_name);
        reg.abort();
        periodic.abort();
        slave_sync.abort();
        for t in schedule_tasks
            .iter()
            .chain(dledger_tasks.iter())
            .chain(ha_tasks.iter())
        {
            t.abort();
        }
        if let Some(dl) = self.dledger.get() {
            dl.shutdown().await;
        }
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

    /// The brokerId this broker registers with now.
    pub fn broker_id(&self) -> i64 {
        self.role.read().0
    }

    /// The role this broker plays now.
    pub fn broker_role(&self) -> BrokerRole {
        self.role.read().1
    }

    pub fn is_master(&self) -> bool {
        self.broker_role() != BrokerRole::Slave
    }

    /// Switches id and role (DLedger leadership changes) and re-registers at once.
    pub fn change_role(&self, broker_id: i64, role: BrokerRole) {
        let old = std::mem::replace(&mut *self.role.write(), (broker_id, role));
        if old != (broker_id, role) {
            tracing::info!(
                "role change: brokerId {} -> {broker_id}, {:?} -> {role:?}",
                old.0,
                old.1
            );
            if (old.1 == BrokerRole::Slave) != (role == BrokerRole::Slave) {
                self.slave_sync.handle_role(role);
            }
            self.register_now.notify_one();
        }
    }

    /// Offset flush every flushConsumerOffsetInterval, client expiry scan every 10 s.
    async fn periodic(self: Arc<Self>) {
        let flush = Duration::from_millis(self.cfg.flush_consumer_offset_interval.max(100));
        let mut flush_tick = tokio::time::interval(flush);
        let mut scan_tick = tokio::time::interval(Duration::from_secs(10));
        let mut tps_tick = tokio::time::interval(Duration::from_secs(1));
        let midnight = tokio::time::sleep(crate::stats::until_next_midnight(&chrono::Local::now()));
        tokio::pin!(midnight);
        loop {
            tokio::select! {
                _ = &mut midnight => {
                    self.daily.record(
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
                    let _ = tokio::task::spawn_blocking(move || b.offsets.persist()).await;
                }
                _ = tps_tick.tick() => {
                    self.group_gets.sample();
                    self.tps.sample(
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
                    let _ = tokio::task::spawn_blocking(move || b.filters.persist()).await;
                    self.producers.scan_expired();
                }
            }
        }
    }
}
