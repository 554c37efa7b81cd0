//! Connection pools: one per TLS settings and runtime, shared by every client
//! with those settings, with a bound on the requests in flight per origin.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::Result;
use crate::http::runtime::{current, generation, Driver};

/// The settings that decide whether two clients can share a connection pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolSettings {
    /// Extra root certificates: the file's path and its contents when read.
    pub ca_file: Option<(PathBuf, Vec<u8>)>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Requests in flight to one origin over HTTP/1.1 (one connection each).
    pub max_connections_per_origin: u32,
}

/// A shared HTTP client (its connection pool) and its per-origin limits.
/// Released when the last client using it goes.
pub(crate) struct Pool {
    generation: u64,
    http: ManuallyDrop<reqwest::Client>,
    max_per_origin: u32,
    origins: Mutex<HashMap<String, Weak<OriginLimit>>>,
}

impl Pool {
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The limiter of one origin (`scheme://host:port`).
    pub(crate) fn origin(&self, origin: &str) -> Arc<OriginLimit> {
        let mut origins = self.origins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(limit) = origins.get(origin).and_then(Weak::upgrade) {
            return limit;
        }
        origins.retain(|_, weak| weak.strong_count() > 0);
        let limit = Arc::new(OriginLimit {
            permits: Semaphore::new(self.max_per_origin as usize),
            multiplexed: AtomicBool::new(false),
        });
        origins.insert(origin.to_owned(), Arc::downgrade(&limit));
        limit
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if self.generation == generation() {
            // SAFETY: dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.http) }
        }
        // Otherwise the client belongs to the parent of a fork: its
        // connections and tasks live on the parent's runtime; leave them.
    }
}

/// Bounds the requests in flight to one origin over HTTP/1.1, where each
/// needs a connection of its own; calls beyond it wait in line. Once the
/// origin is seen to speak HTTP/2 (one connection multiplexes every call),
/// the bound no longer applies.
pub(crate) struct OriginLimit {
    permits: Semaphore,
    multiplexed: AtomicBool,
}

impl OriginLimit {
    /// Waits for a place; `None` when the origin multiplexes.
    pub(crate) async fn acquire(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        if self.multiplexed.load(Ordering::Relaxed) {
            return None;
        }
        if let Ok(permit) = self.permits.try_acquire() {
            return Some(permit);
        }
        self.permits.acquire().await.ok()
    }

    /// Records the HTTP version an answer came with.
    pub(crate) fn observe(&self, version: reqwest::Version) {
        if version == reqwest::Version::HTTP_2
            && self
                .multiplexed
                .compare_exchange(false, true, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // Wake every queued call: they no longer need a place.
            self.permits.add_permits(Semaphore::MAX_PERMITS / 2);
        }
    }
}

/// The pool for `settings` on `driver`'s runtime in this generation, created
/// on first use.
pub(crate) fn pool(settings: &PoolSettings, driver: Driver) -> Result<Arc<Pool>> {
    let rt = current()?;
    let mut pools = rt.pools.lock().unwrap_or_else(|e| e.into_inner());
    let key = (settings.clone(), driver);
    if let Some(pool) = pools.get(&key).and_then(Weak::upgrade) {
        return Ok(pool);
    }
    pools.retain(|_, weak| weak.strong_count() > 0);
    let _entered = rt.enter(driver);
    let pool = Arc::new(Pool {
        generation: rt.generation,
        http: ManuallyDrop::new(crate::http::transport::build_client(settings, driver)?),
        max_per_origin: settings.max_connections_per_origin,
        origins: Mutex::new(HashMap::new()),
    });
    pools.insert(key, Arc::downgrade(&pool));
    Ok(pool)
}

/// A client's way to its connection pools (one per runtime), re-resolved in
/// a forked child (which must not use its parent's connections). Reads take
/// no lock.
pub(crate) struct PoolRef {
    settings: PoolSettings,
    origin: String,
    cached: [arc_swap::ArcSwapOption<PoolEntry>; 2],
}

impl Clone for PoolRef {
    /// The same settings and origin (the CA file is not read again), so the
    /// same pools.
    fn clone(&self) -> PoolRef {
        PoolRef {
            settings: self.settings.clone(),
            origin: self.origin.clone(),
            cached: [
                arc_swap::ArcSwapOption::new(self.cached[0].load_full()),
                arc_swap::ArcSwapOption::new(self.cached[1].load_full()),
            ],
        }
    }
}

/// A pool and the limiter of the client's origin in it.
pub(crate) struct PoolEntry {
    generation: u64,
    pub pool: Arc<Pool>,
    pub limit: Arc<OriginLimit>,
}

impl PoolRef {
    pub(crate) fn new(settings: PoolSettings, origin: String) -> PoolRef {
        PoolRef {
            settings,
            origin,
            cached: Default::default(),
        }
    }

    /// The pool of this process on `driver`'s runtime, made on first use.
    pub(crate) fn get(&self, driver: Driver) -> Result<Arc<PoolEntry>> {
        let slot = &self.cached[driver as usize];
        if let Some(entry) = slot.load_full() {
            if entry.generation == generation() {
                return Ok(entry);
            }
        }
        let generation = generation();
        let pool = pool(&self.settings, driver)?;
        let limit = pool.origin(&self.origin);
        let fresh = Arc::new(PoolEntry {
            generation,
            pool,
            limit,
        });
        slot.store(Some(fresh.clone()));
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_shared_and_go_with_their_last_user() {
        let settings = PoolSettings {
            ca_file: None,
            connect_timeout: Duration::from_millis(54_321),
            max_connections_per_origin: 3,
        };
        let live = || {
            let rt = current().unwrap();
            let pools = rt.pools.lock().unwrap();
            pools
                .get(&(settings.clone(), Driver::IoThreads))
                .and_then(Weak::upgrade)
                .is_some()
        };
        let a = pool(&settings, Driver::IoThreads).unwrap();
        let b = pool(&settings, Driver::IoThreads).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let origin = a.origin("http://127.0.0.1:1");
        assert!(Arc::ptr_eq(&origin, &b.origin("http://127.0.0.1:1")));
        assert_eq!(origin.permits.available_permits(), 3);
        drop(a);
        assert!(live());
        drop(b);
        assert!(!live());
    }
}
