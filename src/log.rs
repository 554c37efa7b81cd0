//! Process-wide logging.
//!
//! One logger serves the whole process: a callback installed with
//! [`set_logger`], or, without one, standard error at the level named by the
//! `ACS_CHAT_LOG` environment variable (`error`, `warn`, `info`, `debug`,
//! `trace`), read once. Log lines never contain the access token: the
//! `Authorization` header is always written as `REDACTED`.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use once_cell::sync::Lazy;

/// Severity of a log line; also the maximum level a logger receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum LogLevel {
    /// Nothing is logged.
    Off = 0,
    /// Failures returned to the caller.
    Error = 1,
    /// Retries and other recoverable trouble.
    Warn = 2,
    /// Client creation and token refreshes.
    Info = 3,
    /// One line per HTTP attempt.
    Debug = 4,
    /// Request headers (with `Authorization` redacted).
    Trace = 5,
}

impl LogLevel {
    /// Upper-case name, e.g. `"DEBUG"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "OFF",
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
        }
    }

    /// Parses an `ACS_CHAT_LOG` value (case-insensitive); unknown values give `None`.
    pub fn parse(text: &str) -> Option<LogLevel> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "0" => Some(LogLevel::Off),
            "error" => Some(LogLevel::Error),
            "warn" | "warning" => Some(LogLevel::Warn),
            "info" => Some(LogLevel::Info),
            "debug" => Some(LogLevel::Debug),
            "trace" => Some(LogLevel::Trace),
            _ => None,
        }
    }
}

/// A log callback: receives the level and one line of text.
pub type LogCallback = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

#[derive(Clone)]
enum Sink {
    Stderr,
    Callback(Arc<LogCallback>),
}

struct Logger {
    sink: Sink,
    max_level: LogLevel,
}

fn env_level() -> LogLevel {
    std::env::var("ACS_CHAT_LOG")
        .ok()
        .and_then(|v| LogLevel::parse(&v))
        .unwrap_or(LogLevel::Off)
}

static LOGGER: Lazy<RwLock<Logger>> = Lazy::new(|| {
    let max_level = env_level();
    MAX_LEVEL.store(max_level as u32, Ordering::Relaxed);
    RwLock::new(Logger {
        sink: Sink::Stderr,
        max_level,
    })
});

/// Mirror of the logger's maximum level, read without locking.
static MAX_LEVEL: AtomicU32 = AtomicU32::new(u32::MAX);

thread_local! {
    /// How many log callbacks this thread is inside.
    static IN_LOG_CALLBACK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Installs the process-wide log callback, receiving lines up to `max_level`.
/// `None` removes it; logging then follows `ACS_CHAT_LOG` again.
///
/// Returns once no other thread is inside the callback it replaced, so the
/// caller may then release whatever that callback used. (A call from inside
/// a log callback waits for the other threads only.)
pub fn set_logger(callback: Option<LogCallback>, max_level: LogLevel) {
    let replaced = {
        let mut logger = LOGGER.write().unwrap_or_else(|e| e.into_inner());
        let replaced = std::mem::replace(
            &mut *logger,
            match callback {
                Some(callback) => Logger {
                    sink: Sink::Callback(Arc::new(callback)),
                    max_level,
                },
                None => Logger {
                    sink: Sink::Stderr,
                    max_level: env_level(),
                },
            },
        );
        MAX_LEVEL.store(logger.max_level as u32, Ordering::Relaxed);
        replaced
    };
    if let Sink::Callback(old) = replaced.sink {
        // Every delivery holds a clone of the callback while it runs, and no
        // new clone can be taken now that it is replaced.
        let own = IN_LOG_CALLBACK.try_with(std::cell::Cell::get).unwrap_or(0);
        while Arc::strong_count(&old) > 1 + own {
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
    }
}

/// Whether a line at `level` would be delivered anywhere.
pub(crate) fn enabled(level: LogLevel) -> bool {
    let mut max = MAX_LEVEL.load(Ordering::Relaxed);
    if max == u32::MAX {
        max = LOGGER.read().unwrap_or_else(|e| e.into_inner()).max_level as u32;
    }
    level != LogLevel::Off && level as u32 <= max
}

/// Delivers one line. Prefer the [`log_at!`] macro, which skips formatting
/// when the level is off.
pub(crate) fn write(level: LogLevel, args: fmt::Arguments<'_>) {
    let sink = {
        let logger = LOGGER.read().unwrap_or_else(|e| e.into_inner());
        if level == LogLevel::Off || level > logger.max_level {
            return;
        }
        logger.sink.clone()
    };
    let line = crate::error::one_line(&args.to_string());
    match sink {
        Sink::Stderr => {
            // A closed or full stderr must never fail the call that logs.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "acs_chat {}: {line}",
                level.as_str()
            );
        }
        Sink::Callback(callback) => {
            struct Inside;
            impl Drop for Inside {
                fn drop(&mut self) {
                    let _ = IN_LOG_CALLBACK.try_with(|c| c.set(c.get().saturating_sub(1)));
                }
            }
            let _ = IN_LOG_CALLBACK.try_with(|c| c.set(c.get() + 1));
            let _inside = Inside;
            callback(level, &line);
        }
    }
}

/// Logs a formatted line at a level, formatting only when it is enabled.
macro_rules! log_at {
    ($level:expr, $($arg:tt)+) => {
        if $crate::log::enabled($level) {
            $crate::log::write($level, format_args!($($arg)+));
        }
    };
}
pub(crate) use log_at;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(LogLevel::parse("DEBUG"), Some(LogLevel::Debug));
        assert_eq!(LogLevel::parse(" warn "), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("loud"), None);
        assert!(LogLevel::Error < LogLevel::Trace);
    }
}
