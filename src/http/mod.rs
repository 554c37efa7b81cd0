//! How a call reaches the service: the process's runtimes and connection
//! pools ([`runtime`], [`pool`]), one call's cancellation and delivery state
//! ([`call`]), one HTTP attempt ([`transport`]), and the attempts of a call
//! with their retries ([`pipeline`], [`retry`]) and what is logged of them
//! ([`diagnostics`]).

pub(crate) mod call;
pub(crate) mod diagnostics;
pub(crate) mod pipeline;
pub(crate) mod pool;
pub(crate) mod retry;
pub(crate) mod runtime;
pub(crate) mod transport;

#[cfg(test)]
pub(crate) mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    /// A header map of `pairs`.
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }
}
