//! The service's limits table: sliding 10-second and one-minute windows per key.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(60);

/// What one limit counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) enum Key {
    /// Send message, per thread.
    Messages(String),
    /// Read receipt, per user per thread: (thread, user).
    ReadReceipts(String, String),
    /// Typing, per user per thread: (thread, user).
    TypingUser(String, String),
    /// Typing, per thread.
    TypingThread(String),
}

impl Key {
    /// (per 10 s, per minute), from the service-limits page.
    fn rule(&self) -> (usize, usize) {
        match self {
            Key::Messages(_) | Key::ReadReceipts(..) | Key::TypingThread(_) => (10, 30),
            Key::TypingUser(..) => (5, 15),
        }
    }
}

#[derive(Default)]
pub(crate) struct Limiter {
    windows: HashMap<Key, VecDeque<Instant>>,
}

impl Limiter {
    /// Checks every key; if all have room, counts the call against each and returns `Ok`.
    /// Otherwise counts nothing and returns the wait until a slot frees.
    pub fn admit(&mut self, keys: &[Key], now: Instant) -> Result<(), Duration> {
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(times) = self.windows.get_mut(key) {
                wait = wait.max(wait_for(times, key.rule(), now));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        if self.windows.len() > 10_000 {
            self.windows.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < LONG)
            });
        }
        for key in keys {
            match self.windows.get_mut(key) {
                Some(times) => times.push_back(now),
                None => {
                    self.windows.insert(key.clone(), VecDeque::from([now]));
                }
            }
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.windows.clear();
    }
}

/// Drops times older than a minute and returns how long until one more call fits
/// (zero if it fits now).
fn wait_for(
    times: &mut VecDeque<Instant>,
    (per_short, per_long): (usize, usize),
    now: Instant,
) -> Duration {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= LONG)
    {
        times.pop_front();
    }
    let mut wait = Duration::ZERO;
    let in_long = times.len();
    if in_long >= per_long {
        let oldest_to_expire = times[in_long - per_long];
        wait = wait.max((oldest_to_expire + LONG).saturating_duration_since(now));
    }
    let in_short = times
        .iter()
        .rev()
        .take_while(|t| now.saturating_duration_since(**t) < SHORT)
        .count();
    if in_short >= per_short {
        let oldest_to_expire = times[times.len() - in_short + (in_short - per_short)];
        wait = wait.max((oldest_to_expire + SHORT).saturating_duration_since(now));
    }
    wait
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_allow_ten_per_ten_seconds() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let key = [Key::Messages("t".into())];
        for i in 0..10 {
            assert!(limiter.admit(&key, t0 + Duration::from_millis(i)).is_ok());
        }
        let wait = limiter
            .admit(&key, t0 + Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(9));
        assert!(limiter.admit(&key, t0 + Duration::from_secs(10)).is_ok());
        // Other threads are counted apart.
        assert!(limiter.admit(&[Key::Messages("u".into())], t0).is_ok());
    }

    #[test]
    fn minute_window_applies_after_short_windows() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let key = [Key::Messages("t".into())];
        for burst in 0..3u64 {
            for i in 0..10 {
                let at = t0 + Duration::from_secs(burst * 10) + Duration::from_millis(i);
                assert!(limiter.admit(&key, at).is_ok());
            }
        }
        let wait = limiter
            .admit(&key, t0 + Duration::from_secs(35))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(25));
    }

    #[test]
    fn typing_needs_room_for_user_and_thread() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        let keys = |user: &str| {
            [
                Key::TypingUser("t".into(), user.into()),
                Key::TypingThread("t".into()),
            ]
        };
        for _ in 0..5 {
            assert!(limiter.admit(&keys("a"), t0).is_ok());
        }
        assert!(limiter.admit(&keys("a"), t0).is_err());
        for _ in 0..5 {
            assert!(limiter.admit(&keys("b"), t0).is_ok());
        }
        // Thread limit (10) reached although user c has sent nothing.
        assert!(limiter.admit(&keys("c"), t0).is_err());
    }
}
