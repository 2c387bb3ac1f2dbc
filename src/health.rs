//! Operations: `/healthz` (200 while the gateway is connected and the
//! database is sound, 503 otherwise, with the reason) and `/metrics` in
//! Prometheus text format, served on `HEALTH_ADDR` when set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::tips::TipStore;

/// Upper bounds (seconds) of the answer latency histogram.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters shared by the bot and the health endpoint.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (command, outcome) -> count.
    commands: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency: Mutex<Histogram>,
    tips_posted: AtomicU64,
    tips_failed: AtomicU64,
    autocomplete_dropped: AtomicU64,
    reconnects: AtomicU64,
    connected: AtomicBool,
    /// `serve` has no gateway; `/healthz` then asks only the database.
    no_gateway: bool,
    storage: OnceLock<StorageCheck>,
}

/// The store `/healthz` asks: whether it found itself damaged (see
/// `TipStore::problem`), and with `ping` whether it answers at all.
struct StorageCheck {
    store: Arc<dyn TipStore>,
    ping: bool,
}

impl std::fmt::Debug for StorageCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageCheck")
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// For the HTTP endpoint, which needs no gateway to be healthy.
    pub fn without_gateway() -> Arc<Metrics> {
        Arc::new(Metrics {
            no_gateway: true,
            ..Metrics::default()
        })
    }

    /// Records one answered command. `command` comes from the bot's own
    /// command table, so the label set stays small.
    pub fn command(&self, command: &str, outcome: &'static str, latency: Duration) {
        if let Ok(mut map) = self.commands.lock() {
            *map.entry((command.to_owned(), outcome)).or_default() += 1;
        }
        if let Ok(mut h) = self.latency.lock() {
            let secs = latency.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    pub fn tip_posted(&self) {
        self.tips_posted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn tip_failed(&self) {
        self.tips_failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn autocomplete_dropped(&self) {
        self.autocomplete_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub fn gateway_reconnected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Makes `/healthz` ask `store` for a problem on every probe, and with
    /// `ping` also read from it (a database over the network can stop
    /// answering without being damaged).
    pub fn set_store(&self, store: Arc<dyn TipStore>, ping: bool) {
        let _ = self.storage.set(StorageCheck { store, ping });
    }

    /// The damage the store found, if any (no database round trip).
    pub fn storage_problem(&self) -> Option<String> {
        self.storage.get().and_then(|c| c.store.problem())
    }

    /// What `/healthz` reports about storage: the damage found, or, when
    /// pinging, a database that does not answer within 2 seconds.
    pub async fn storage_health(&self) -> Option<String> {
        let check = self.storage.get()?;
        if let Some(problem) = check.store.problem() {
            return Some(problem);
        }
        if !check.ping {
            return None;
        }
        match tokio::time::timeout(Duration::from_secs(2), check.store.ping()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("the database does not answer: {e}")),
            Err(_) => Some("the database does not answer within 2 s".into()),
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP massage_bot_commands_total Commands answered, by command and outcome.\n",
        );
        out.push_str("# TYPE massage_bot_commands_total counter\n");
        if let Ok(map) = self.commands.lock() {
            for ((command, outcome), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "massage_bot_commands_total{{command=\"{command}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP massage_bot_answer_latency_seconds Time from receiving an interaction to the reply being accepted.\n");
        out.push_str("# TYPE massage_bot_answer_latency_seconds histogram\n");
        if let Ok(h) = self.latency.lock() {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "massage_bot_answer_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "massage_bot_answer_latency_seconds_bucket{{le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "massage_bot_answer_latency_seconds_sum {}", h.sum);
            let _ = writeln!(out, "massage_bot_answer_latency_seconds_count {}", h.count);
        }
        let counters = [
            (
                "massage_bot_tips_posted_total",
                "Daily tips posted.",
                &self.tips_posted,
            ),
            (
                "massage_bot_tips_failed_total",
                "Daily tip posts that failed.",
                &self.tips_failed,
            ),
            (
                "massage_bot_autocomplete_dropped_total",
                "Autocomplete requests not answered because no reply slot was free in time.",
                &self.autocomplete_dropped,
            ),
            (
                "massage_bot_gateway_reconnects_total",
                "Gateway reconnections (resumes and re-identifies).",
                &self.reconnects,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP massage_bot_gateway_connected 1 while the gateway is connected.\n# TYPE massage_bot_gateway_connected gauge\nmassage_bot_gateway_connected {}",
            u8::from(self.is_connected())
        );
        let _ = writeln!(
            out,
            "# HELP massage_bot_storage_ok 0 once the database was found damaged, replaced or deleted.\n# TYPE massage_bot_storage_ok gauge\nmassage_bot_storage_ok {}",
            u8::from(self.storage_problem().is_none())
        );
        out
    }
}

async fn healthz(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    if let Some(problem) = m.storage_health().await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("{problem}\n"));
    }
    if m.no_gateway || m.is_connected() {
        (StatusCode::OK, "ok\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "gateway not connected\n".to_owned(),
        )
    }
}

async fn metrics(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m.render(),
    )
}

pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(self::metrics))
        .with_state(metrics)
}

/// Serves the endpoints until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "health endpoint listening");
    axum::serve(listener, router(metrics))
        .tcp_nodelay(true)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Asks a running bot's `/healthz` (for container health checks, where no
/// curl exists). Returns the HTTP status code.
pub fn probe(addr: &str, timeout: Duration) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let target = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address"))?;
    let mut stream = std::net::TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.command("benefits", "answered", Duration::from_micros(300));
        m.command("benefits", "answered", Duration::from_millis(30));
        m.tip_posted();
        let text = m.render();
        assert!(text
            .contains("massage_bot_commands_total{command=\"benefits\",outcome=\"answered\"} 2"));
        assert!(text.contains("massage_bot_answer_latency_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(text.contains("massage_bot_answer_latency_seconds_count 2"));
        assert!(text.contains("massage_bot_tips_posted_total 1"));
        assert!(text.contains("massage_bot_gateway_connected 0"));
    }
}
