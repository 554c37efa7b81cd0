//! When a failed attempt is tried again, and after how long: exponential
//! back-off with jitter, or the delay the service asked for.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// Jitter applied to computed back-off delays: plus or minus this fraction.
pub const JITTER: f64 = 0.2;

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Delay before retry number `retry` (0 for the first retry):
    /// `base * 2^retry`, scaled by `1 + JITTER * jitter` (`jitter` in -1..=1),
    /// capped at `max_delay`.
    pub(crate) fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let factor = 2f64.powi(retry.min(30) as i32);
        let jitter = 1.0 + JITTER * jitter.clamp(-1.0, 1.0);
        let secs = self.base_delay.as_secs_f64() * factor * jitter;
        let max = self.max_delay.as_secs_f64();
        Duration::from_secs_f64(secs.clamp(0.0, max))
    }

    /// The delay the service asked for, if any, else the back-off; capped.
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        let asked = headers.and_then(|h| retry_after(h, SystemTime::now()));
        match asked {
            Some(d) => d.min(self.max_delay),
            None => self.backoff(retry, fastrand::f64() * 2.0 - 1.0),
        }
    }
}

/// Statuses every operation retries.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The delay asked for by `retry-after-ms`, `x-ms-retry-after-ms` or
/// `Retry-After` (seconds or an HTTP date), in that precedence.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let millis = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_secs_f64(ms.min(1e12) / 1000.0))
    };
    if let Some(d) = text("retry-after-ms").and_then(millis) {
        return Some(d);
    }
    if let Some(d) = text("x-ms-retry-after-ms").and_then(millis) {
        return Some(d);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::headers;
    use crate::model::Operation;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_is_exponential_with_bounded_jitter_and_cap() {
        let p = policy();
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(800));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(1600));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(3200));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(960));
        assert_eq!(p.backoff(0, -1.0), Duration::from_millis(640));
        assert_eq!(p.backoff(0, 7.0), Duration::from_millis(960));
        assert_eq!(p.backoff(10, 0.0), Duration::from_secs(60));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(60));
        for _ in 0..100 {
            let d = p.delay(1, None);
            assert!(d >= Duration::from_millis(1280) && d <= Duration::from_millis(1920));
        }
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3, 1.0), Duration::ZERO);
    }

    #[test]
    fn retry_after_precedence_and_formats() {
        let now = SystemTime::now();
        assert_eq!(retry_after(&headers(&[]), now), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")]), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(
                &headers(&[("x-ms-retry-after-ms", "250"), ("retry-after", "2")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(
                &headers(&[
                    ("retry-after-ms", "100"),
                    ("x-ms-retry-after-ms", "250"),
                    ("retry-after", "2")
                ]),
                now
            ),
            Some(Duration::from_millis(100))
        );
        // Unusable values fall through to the next header.
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "soon"), ("retry-after", "3")]),
                now
            ),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "later")]), now),
            None
        );
    }

    #[test]
    fn retry_after_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(5))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn service_delay_is_capped() {
        let p = RetryPolicy {
            max_delay: Duration::from_secs(2),
            ..policy()
        };
        assert_eq!(
            p.delay(0, Some(&headers(&[("retry-after", "30")]))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 201, 400, 401, 403, 404, 409, 501, 505] {
            assert!(!is_retryable_status(s));
        }
        assert!(!Operation::SendMessage.retries_after_delivery());
        assert!(Operation::Typing.retries_after_delivery());
        assert!(Operation::ReadReceipt.retries_after_delivery());
    }
}
