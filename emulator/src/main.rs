//! `acs-chat-emulator`: serves the emulator until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use acs_chat_emulator::{AccessKey, Emulator, EmulatorConfig, TlsFiles};

const USAGE: &str = "\
Usage: acs-chat-emulator [--listen ADDR] [--no-limits] [--latency-ms N[:JITTER]]
                         [--tls-cert FILE --tls-key FILE] [--access-key BASE64]

Local emulator of the Azure Communication Services Chat REST operations
(send message, typing notification, read receipt) and identity operations (create a user,
issue a token: HMAC-signed with the access key) with a control API under /_emulator/.

Options:
  --listen ADDR      address to listen on (default 127.0.0.1:0; port 0 picks a free port)
  --no-limits        turn the service's rate limits off
  --latency-ms N[:JITTER]
                     answer every service call N ms after handling it, plus a random
                     0..=JITTER ms drawn per answer (N + JITTER within 0..=600000, default 0)
  --tls-cert FILE    PEM certificate chain; serve HTTPS, HTTP/2 or HTTP/1.1 by ALPN
                     (needs --tls-key)
  --tls-key FILE     PEM private key for --tls-cert
  --access-key KEY   the resource's access key, base64 (default: a fixed public key,
                     see emulator/README.md)
  -h, --help         print this help

The first line on stdout is `listening on http://ADDR` (or https://), the second the
connection string of the emulated resource, `endpoint=http://ADDR/;accesskey=KEY`. Open the
address in a browser for the web inbox, which shows what arrives live.
SIGINT or SIGTERM stops it with exit status 0.";

/// Largest `--latency-ms`.
const MAX_LATENCY_MS: u64 = 600_000;

fn parse_args() -> Result<Option<EmulatorConfig>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut config = EmulatorConfig::default();
    let (mut cert, mut key): (Option<PathBuf>, Option<PathBuf>) = (None, None);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("listen") => config.listen = parser.value()?.parse::<SocketAddr>()?,
            Long("no-limits") => config.limits = false,
            Long("latency-ms") => {
                let (ms, jitter_ms) = parse_latency(&parser.value()?.string()?)?;
                config.latency = Duration::from_millis(ms);
                config.latency_jitter = Duration::from_millis(jitter_ms);
            }
            Long("tls-cert") => cert = Some(parser.value()?.into()),
            Long("tls-key") => key = Some(parser.value()?.into()),
            Long("access-key") => {
                let text = parser.value()?.string()?;
                config.access_key =
                    AccessKey::from_base64(&text).ok_or("--access-key must be non-empty base64")?;
            }
            Short('h') | Long("help") => return Ok(None),
            _ => return Err(arg.unexpected()),
        }
    }
    config.tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    Ok(Some(config))
}

/// `N` or `N:JITTER`, in milliseconds, with `N + JITTER` at most [`MAX_LATENCY_MS`].
fn parse_latency(text: &str) -> Result<(u64, u64), String> {
    let invalid = || format!("--latency-ms takes N or N:JITTER (milliseconds), not {text:?}");
    let (ms, jitter) = text.split_once(':').unwrap_or((text, "0"));
    let ms: u64 = ms.parse().map_err(|_| invalid())?;
    let jitter: u64 = jitter.parse().map_err(|_| invalid())?;
    if ms.saturating_add(jitter) > MAX_LATENCY_MS {
        return Err(format!(
            "--latency-ms: N + JITTER must be within 0..={MAX_LATENCY_MS}"
        ));
    }
    Ok((ms, jitter))
}

fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("acs-chat-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start(config) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("acs-chat-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", emulator.url());
        let _ = writeln!(out, "{}", emulator.connection_string());
        let _ = out.flush();
    }
    if let Err(e) = wait_for_signal() {
        eprintln!("acs-chat-emulator: cannot wait for signals: {e}");
        return ExitCode::FAILURE;
    }
    emulator.shutdown();
    ExitCode::SUCCESS
}

/// Blocks until SIGINT or SIGTERM arrives.
fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        Ok(())
    })
}
