//! The health endpoint over real HTTP: the router the bot serves on
//! `HEALTH_ADDR`, bound to an ephemeral port in-process and asked with a
//! plain HTTP client; and `massage-bot healthcheck`, the container's probe,
//! against it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use massage_bot::health::{self, Metrics};
use tokio::sync::oneshot;

/// A health server on 127.0.0.1 with an ephemeral port; stops when dropped.
struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Server {
    async fn start(metrics: Arc<Metrics>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, health::router(metrics))
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Server { addr, _stop: stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap()
}

async fn get(url: &str) -> (u16, Option<String>, String) {
    let resp = client().get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    (status, content_type, resp.text().await.unwrap())
}

#[tokio::test]
async fn healthz_follows_the_gateway_connection() {
    let metrics = Metrics::new();
    let server = Server::start(Arc::clone(&metrics)).await;

    let (status, _, body) = get(&server.url("/healthz")).await;
    assert_eq!(status, 503, "not connected yet: {body}");
    assert!(body.contains("not connected"), "{body}");

    metrics.set_connected(true);
    let (status, _, body) = get(&server.url("/healthz")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim(), "ok");

    // A dropped gateway makes the bot unhealthy again.
    metrics.set_connected(false);
    let (status, _, _) = get(&server.url("/healthz")).await;
    assert_eq!(status, 503);

    let (status, _, _) = get(&server.url("/nope")).await;
    assert_eq!(status, 404);
}

/// One sample line of the Prometheus text format: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the exposition strictly enough to catch a malformed line: every
/// sample is `name{k="v",...} value` and belongs to a metric with a `# TYPE`.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut typed = BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap();
            let kind = parts.next().unwrap();
            assert!(
                ["counter", "gauge", "histogram"].contains(&kind),
                "type of {name}: {kind}"
            );
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment: {line}");
        let (series, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect(line);
                let labels = body
                    .split(',')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').expect(line);
                        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                        (k.to_owned(), v.expect(line).to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, BTreeMap::new()),
        };
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "metric name {name}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "{name} has no # TYPE before it");
        samples.push((name.to_owned(), labels, value));
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|(n, l, _)| n == name && *l == want)
        .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
        .2
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_every_counter() {
    let metrics = Metrics::new();
    let server = Server::start(Arc::clone(&metrics)).await;

    // Before anything happens every counter is present and zero.
    let (status, content_type, body) = get(&server.url("/metrics")).await;
    assert_eq!(status, 200);
    let content_type = content_type.expect("a content type");
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "{content_type}"
    );
    let samples = parse_prometheus(&body);
    for name in [
        "massage_bot_tips_posted_total",
        "massage_bot_tips_failed_total",
        "massage_bot_gateway_reconnects_total",
        "massage_bot_answer_latency_seconds_count",
        "massage_bot_gateway_connected",
    ] {
        assert_eq!(value(&samples, name, &[]), 0.0, "{name}");
    }

    metrics.command("benefits", "answered", Duration::from_micros(300));
    metrics.command("benefits", "answered", Duration::from_millis(30));
    metrics.command("safe", "not_covered", Duration::from_secs(1));
    metrics.tip_posted();
    metrics.tip_posted();
    metrics.tip_posted();
    metrics.tip_failed();
    metrics.gateway_reconnected();
    metrics.gateway_reconnected();
    metrics.set_connected(true);

    let (_, _, body) = get(&server.url("/metrics")).await;
    let samples = parse_prometheus(&body);
    let commands = "massage_bot_commands_total";
    assert_eq!(
        value(
            &samples,
            commands,
            &[("command", "benefits"), ("outcome", "answered")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            commands,
            &[("command", "safe"), ("outcome", "not_covered")]
        ),
        1.0
    );

    // The latency histogram: cumulative buckets, +Inf equals the count.
    let hist = "massage_bot_answer_latency_seconds";
    let bucket = format!("{hist}_bucket");
    let buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(n, _, _)| *n == bucket)
        .map(|(_, l, v)| {
            let le = &l["le"];
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            (le, *v)
        })
        .collect();
    assert!(buckets.len() >= 2, "{body}");
    assert!(
        buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "buckets must be sorted and cumulative: {buckets:?}"
    );
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, 3.0));
    assert_eq!(value(&samples, &bucket, &[("le", "0.0005")]), 1.0);
    assert_eq!(value(&samples, &bucket, &[("le", "0.05")]), 2.0);
    assert_eq!(value(&samples, &format!("{hist}_count"), &[]), 3.0);
    let sum = value(&samples, &format!("{hist}_sum"), &[]);
    assert!((sum - 1.0303).abs() < 1e-6, "sum {sum}");

    assert_eq!(value(&samples, "massage_bot_tips_posted_total", &[]), 3.0);
    assert_eq!(value(&samples, "massage_bot_tips_failed_total", &[]), 1.0);
    assert_eq!(
        value(&samples, "massage_bot_gateway_reconnects_total", &[]),
        2.0
    );
    assert_eq!(value(&samples, "massage_bot_gateway_connected", &[]), 1.0);
}

/// `massage-bot healthcheck ADDR`, the container's HEALTHCHECK, run as a
/// separate process against the in-process server.
fn healthcheck(addr: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_massage-bot"))
        .args(["healthcheck", addr])
        .current_dir(dir.path())
        .env_remove("HEALTH_ADDR")
        .output()
        .unwrap()
}

#[tokio::test]
async fn healthcheck_command_exits_zero_only_when_healthy() {
    let metrics = Metrics::new();
    let server = Server::start(Arc::clone(&metrics)).await;
    let addr = server.addr.to_string();

    let out = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || healthcheck(&addr)
    })
    .await
    .unwrap();
    assert!(!out.status.success(), "503 must fail the probe");
    assert!(String::from_utf8_lossy(&out.stderr).contains("503"));

    metrics.set_connected(true);
    let out = tokio::task::spawn_blocking(move || healthcheck(&addr))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Nothing listening: unhealthy, not a hang or a crash.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let out = tokio::task::spawn_blocking(move || healthcheck(&closed))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
