//! Background creation of the next commit-log file, so an append that fills a file does not
//! wait for a 1 GiB file to be created (and warmed).
//!
//! When the appender asks for file N it also queues a request for file N+1; a single thread
//! creates queued files (pre-touching their pages when `warmMapedFileEnable` is set) and hands
//! them over when asked. Book: Part I, "CommitLog" (pre-allocation and warming). Mirrors
//! `org.apache.rocketmq.store.AllocateMappedFileService` (without the transient store pool).

use crate::error::StoreError;
use crate::mapped_file::{MappedFile, WriterId};
use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

enum Slot {
    Pending,
    Ready(Result<Arc<MappedFile>, String>),
}

struct Request {
    dir: PathBuf,
    offset: u64,
    size: usize,
    writer: WriterId,
}

#[derive(Default)]
struct State {
    slots: HashMap<PathBuf, Slot>,
    queue: VecDeque<(PathBuf, Request)>,
    stopped: bool,
}

/// The allocation service; share it as an `Arc` and call [`AllocateMappedFileService::start`].
pub struct AllocateMappedFileService {
    state: Mutex<State>,
    cv: Condvar,
    warm: bool,
    warm_sync_pages: usize,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// How long an appender waits for a requested file before giving up (4.8.0 waits 5 s; we
/// allow for warming a large file on a slow disk).
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

impl AllocateMappedFileService {
    /// `warm_sync_pages`: 0 for ASYNC_FLUSH, `flushLeastPagesWhenWarmMapedFile` for SYNC_FLUSH.
    pub fn new(warm: bool, warm_sync_pages: usize) -> Arc<Self> {
        Arc::new(AllocateMappedFileService {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            warm,
            warm_sync_pages,
            thread: Mutex::new(None),
        })
    }

    /// Starts the creating thread.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        let handle = std::thread::Builder::new()
            .name("AllocateMappedFileService".into())
            .spawn(move || me.run())
            .ok();
        *self.thread.lock() = handle;
    }

    fn run(&self) {
        loop {
            let (key, req) = {
                let mut st = self.state.lock();
                loop {
                    if st.stopped {
                        return;
                    }
                    if let Some(item) = st.queue.pop_front() {
                        break item;
                    }
                    self.cv.wait(&mut st);
                }
            };
            let made = self.make(&req);
            let mut st = self.state.lock();
            if st.stopped {
                if let Ok(f) = &made {
                    f.destroy();
                }
                return;
            }
            st.slots.insert(key, Slot::Ready(made));
            self.cv.notify_all();
        }
    }

    fn make(&self, req: &Request) -> Result<Arc<MappedFile>, String> {
        let mut f = MappedFile::create(&req.dir, req.offset, req.size, req.writer)
            .map_err(|e| e.to_string())?;
        if self.warm {
            f.warm(self.warm_sync_pages);
        }
        Ok(Arc::new(f))
    }

    fn enqueue(st: &mut State, dir: &Path, offset: u64, size: usize, writer: WriterId) -> PathBuf {
        let key = dir.join(crate::util::offset_to_file_name(offset));
        if !st.slots.contains_key(&key) {
            st.slots.insert(key.clone(), Slot::Pending);
            st.queue.push_back((
                key.clone(),
                Request {
                    dir: dir.to_path_buf(),
                    offset,
                    size,
                    writer,
                },
            ));
        }
        key
    }

    /// Returns the file starting at `offset` (created by the thread, or right now if the
    /// service is stopped) and queues the one after it (`putRequestAndReturnMappedFile`);
    /// both are appendable by `writer`.
    pub fn request(
        &self,
        dir: &Path,
        offset: u64,
        next_offset: u64,
        size: usize,
        writer: WriterId,
    ) -> Result<Arc<MappedFile>, StoreError> {
        let mut st = self.state.lock();
        if st.stopped || self.thread.lock().is_none() {
            drop(st);
            let f = MappedFile::create(dir, offset, size, writer)?;
            return Ok(Arc::new(f));
        }
        let key = Self::enqueue(&mut st, dir, offset, size, writer);
        Self::enqueue(&mut st, dir, next_offset, size, writer);
        self.cv.notify_all();
        let deadline = std::time::Instant::now() + WAIT_TIMEOUT;
        loop {
            match st.slots.get(&key) {
                Some(Slot::Ready(_)) => {
                    let Some(Slot::Ready(made)) = st.slots.remove(&key) else {
                        unreachable!("checked just above");
                    };
                    return made.map_err(|e| {
                        StoreError::Config(format!("create mapped file failed: {e}"))
                    });
                }
                Some(Slot::Pending) => {}
                None => {
                    return Err(StoreError::Config(format!(
                        "allocation request for {} vanished",
                        key.display()
                    )))
                }
            }
            if st.stopped || self.cv.wait_until(&mut st, deadline).timed_out() {
                return Err(StoreError::Config(format!(
                    "timed out creating {}",
                    key.display()
                )));
            }
        }
    }

    /// Stops the thread and deletes files created ahead but never handed out.
    pub fn shutdown(&self) {
        let slots = {
            let mut st = self.state.lock();
            st.stopped = true;
            st.queue.clear();
            std::mem::take(&mut st.slots)
        };
        self.cv.notify_all();
        if let Some(h) = self.thread.lock().take() {
            let _ = h.join();
        }
        for (_, slot) in slots {
            if let Slot::Ready(Ok(f)) = slot {
                f.destroy();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_requested_file_and_the_next_one_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let svc = AllocateMappedFileService::new(true, 0);
        svc.start();
        let right = crate::mapped_file::WriteRight::new();
        let f = svc.request(dir.path(), 0, 4096, 4096, right.id()).unwrap();
        assert_eq!(f.file_from_offset(), 0);
        // the next file gets created in the background
        let next = dir.path().join("00000000000000004096");
        for _ in 0..200 {
            if next.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(next.exists());
        let g = svc
            .request(dir.path(), 4096, 8192, 4096, right.id())
            .unwrap();
        assert_eq!(g.file_from_offset(), 4096);
        svc.shutdown();
        // the file made ahead for 8192 is removed on shutdown
        assert!(!dir.path().join("00000000000000008192").exists());
        assert!(next.exists());
    }
}
