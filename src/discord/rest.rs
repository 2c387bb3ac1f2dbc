//! The REST calls the bot starts on its own (daily tips, command
//! registration), built with serenity's routes but sent and read here.
//!
//! serenity's errors drop the response headers and a 429's `retry_after`,
//! and behind a proxy its rate limiter is off. Reading the response here
//! lets every such call honour `retry_after` and the rate-limit bucket
//! headers, so a limited post is retried when Discord says, not at a guess.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serenity::all::{ChannelId, CreateMessage, Http};
use serenity::http::{LightMethod, Request, Route};
use tokio::time::Instant;

/// Waiting longer than this for a bucket to refill is not done inline: the
/// call fails with `RateLimited` and the caller schedules the retry.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(5);
/// A `retry_after` above this is taken as this (a bogus value must not
/// silence the bot for days).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Bucket entries kept before expired ones are swept.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("rate limited for {:.1} s{}", retry_after.as_secs_f64(), if *global { " (global limit)" } else { "" })]
    RateLimited { retry_after: Duration, global: bool },
    #[error("HTTP {status}: {message} (code {code})")]
    Status {
        status: u16,
        code: i64,
        message: String,
    },
    #[error("network: {0}")]
    Network(String),
    #[error("{0}")]
    Other(String),
}

/// Discord bans an IP for an hour after 10,000 rejected requests (401, 403,
/// 429) in 10 minutes. The bot stops its own requests long before: after
/// this many in the window, for [`INVALID_PAUSE`].
const INVALID_LIMIT: usize = 1_000;
const INVALID_WINDOW: Duration = Duration::from_secs(600);
const INVALID_PAUSE: Duration = Duration::from_secs(600);

/// Counts rejected requests and, when they climb, stops new ones for a
/// while: a revoked token or a lost permission in many servers must not
/// get the bot's IP banned.
#[derive(Debug, Default)]
struct Breaker {
    rejected: std::collections::VecDeque<Instant>,
    open_until: Option<Instant>,
}

impl Breaker {
    /// Records a rejected request; `true` when that opens the breaker.
    fn reject(&mut self, now: Instant) -> bool {
        while self
            .rejected
            .front()
            .is_some_and(|t| now.duration_since(*t) >= INVALID_WINDOW)
        {
            self.rejected.pop_front();
        }
        self.rejected.push_back(now);
        if self.rejected.len() >= INVALID_LIMIT && self.open(now).is_none() {
            self.open_until = Some(now + INVALID_PAUSE);
            self.rejected.clear();
            return true;
        }
        false
    }

    /// How long requests stay stopped, if they are.
    fn open(&self, now: Instant) -> Option<Duration> {
        self.open_until.filter(|t| *t > now).map(|t| t - now)
    }
}

/// When each exhausted bucket (and the global limit) refills.
#[derive(Debug, Default)]
struct Limits {
    global_until: Option<Instant>,
    buckets: HashMap<String, Instant>,
}

pub struct Rest {
    client: reqwest::Client,
    /// `Bot …`, never logged.
    token: String,
    proxy: Option<String>,
    limits: Mutex<Limits>,
    breaker: Mutex<Breaker>,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Rest {
    /// Uses the token and proxy of serenity's client, so both go to the same
    /// place the same way.
    pub fn new(http: &Http) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            token: http.token().to_owned(),
            proxy: http.proxy.clone(),
            limits: Mutex::new(Limits::default()),
            breaker: Mutex::new(Breaker::default()),
        }
    }

    /// Posts a message; returns its id.
    pub async fn post_message(
        &self,
        channel: ChannelId,
        message: &CreateMessage,
    ) -> Result<u64, RestError> {
        let body = serde_json::to_vec(message).map_err(|e| RestError::Other(e.to_string()))?;
        let route = Route::ChannelMessages {
            channel_id: channel,
        };
        let bytes = self
            .send(
                Request::new(route, LightMethod::Post).body(Some(body)),
                bucket_key(&route),
            )
            .await?;
        #[derive(serde::Deserialize)]
        struct Created {
            id: serenity::all::MessageId,
        }
        serde_json::from_slice::<Created>(&bytes)
            .map(|m| m.id.get())
            .map_err(|e| RestError::Other(format!("unreadable answer from Discord: {e}")))
    }

    /// Sends one request, first waiting out its exhausted bucket or the
    /// global limit when that is short, and records what the answer says
    /// about both.
    pub async fn send(&self, req: Request<'_>, bucket: String) -> Result<Vec<u8>, RestError> {
        let stopped = self
            .breaker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .open(Instant::now());
        if let Some(wait) = stopped {
            return Err(RestError::RateLimited {
                retry_after: wait,
                global: true,
            });
        }
        if let Some((wait, global)) = self.blocked(&bucket) {
            if wait > MAX_INLINE_WAIT {
                return Err(RestError::RateLimited {
                    retry_after: wait,
                    global,
                });
            }
            tokio::time::sleep(wait).await;
        }
        let request = req
            .build(&self.client, &self.token, self.proxy.as_deref())
            .map_err(|e| RestError::Other(e.to_string()))?
            .build()
            .map_err(|e| RestError::Other(without_url(&e)))?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| RestError::Network(without_url(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| RestError::Network(without_url(&e)))?;
        self.note_bucket(&bucket, &headers);
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        if matches!(status, 401 | 403 | 429) {
            let mut breaker = self.breaker.lock().unwrap_or_else(|e| e.into_inner());
            if breaker.reject(Instant::now()) {
                tracing::error!(
                    rejected = INVALID_LIMIT,
                    window_s = INVALID_WINDOW.as_secs(),
                    pause_s = INVALID_PAUSE.as_secs(),
                    "Discord rejected many requests (401/403/429); pausing the bot's own requests so that Discord does not ban this IP (check the token and the tip channels' permissions)"
                );
            }
        }
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if status == 429 {
            let (retry_after, global) = retry_after(&headers, &json);
            self.hold(&bucket, retry_after, global);
            return Err(RestError::RateLimited {
                retry_after,
                global,
            });
        }
        Err(RestError::Status {
            status,
            code: json.get("code").and_then(|c| c.as_i64()).unwrap_or(0),
            message: json
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("(no message)")
                .chars()
                .take(200)
                .collect(),
        })
    }

    fn blocked(&self, bucket: &str) -> Option<(Duration, bool)> {
        let limits = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let global = limits.global_until.filter(|t| *t > now);
        let local = limits.buckets.get(bucket).copied().filter(|t| *t > now);
        match (global, local) {
            (Some(g), Some(l)) if l > g => Some((l - now, false)),
            (Some(g), _) => Some((g - now, true)),
            (None, Some(l)) => Some((l - now, false)),
            (None, None) => None,
        }
    }

    fn hold(&self, bucket: &str, wait: Duration, global: bool) {
        let until = Instant::now() + wait;
        let mut limits = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        if global {
            limits.global_until = Some(limits.global_until.map_or(until, |t| t.max(until)));
        } else {
            if limits.buckets.len() >= MAX_BUCKETS {
                let now = Instant::now();
                limits.buckets.retain(|_, t| *t > now);
            }
            limits.buckets.insert(bucket.to_owned(), until);
        }
    }

    /// `x-ratelimit-remaining: 0` means the bucket is empty until
    /// `x-ratelimit-reset-after` seconds from now.
    fn note_bucket(&self, bucket: &str, headers: &HeaderMap) {
        let remaining = header_f64(headers, "x-ratelimit-remaining");
        let reset_after = header_f64(headers, "x-ratelimit-reset-after");
        if let (Some(r), Some(after)) = (remaining, reset_after) {
            if r <= 0.0 {
                self.hold(bucket, secs(after), false);
            }
        }
    }
}

/// Discord's buckets are per route and major parameter (channel, guild);
/// serenity's route already knows which parameter that is.
fn bucket_key(route: &Route<'_>) -> String {
    // Its fields are private; its Debug form names the route kind and id.
    format!("{:?}", route.ratelimiting_bucket())
}

/// A 429's wait: the body's `retry_after` (precise, in seconds), else the
/// `retry-after` header; and whether it is the global limit.
fn retry_after(headers: &HeaderMap, body: &serde_json::Value) -> (Duration, bool) {
    let wait = body
        .get("retry_after")
        .and_then(|v| v.as_f64())
        .or_else(|| header_f64(headers, "retry-after"))
        .or_else(|| header_f64(headers, "x-ratelimit-reset-after"))
        .unwrap_or(1.0);
    let global = body
        .get("global")
        .and_then(|g| g.as_bool())
        .unwrap_or(false)
        || headers
            .get("x-ratelimit-global")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    (secs(wait), global)
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s).min(MAX_RETRY_AFTER)
    } else {
        Duration::ZERO
    }
}

/// A request error without its URL (which could carry a webhook token).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(src) => format!("{kind}: {src}"),
        None => kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn many_rejections_pause_requests_and_old_ones_are_forgotten() {
        let start = Instant::now();
        let mut b = Breaker::default();
        // Spread over more than the window: never enough at once.
        let step = INVALID_WINDOW / (INVALID_LIMIT as u32 - 1) * 2;
        for i in 0..3 * INVALID_LIMIT as u32 {
            assert!(!b.reject(start + step * i), "opened at {i}");
        }
        assert_eq!(b.open(start + step * 3 * INVALID_LIMIT as u32), None);
        // A burst opens it, once, for the pause; then it closes.
        let burst = start + Duration::from_secs(100_000);
        let opened: Vec<usize> = (0..2 * INVALID_LIMIT).filter(|_| b.reject(burst)).collect();
        assert_eq!(opened.len(), 1, "opens once while open");
        assert_eq!(b.open(burst), Some(INVALID_PAUSE));
        assert_eq!(b.open(burst + INVALID_PAUSE), None);
    }

    #[test]
    fn retry_after_prefers_the_precise_body() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("13"));
        let body = serde_json::json!({"retry_after": 12.5, "global": false});
        assert_eq!(
            retry_after(&h, &body),
            (Duration::from_millis(12_500), false)
        );
        assert_eq!(
            retry_after(&h, &serde_json::Value::Null),
            (Duration::from_secs(13), false)
        );
        h.insert("x-ratelimit-global", HeaderValue::from_static("true"));
        assert!(retry_after(&h, &body).1);
        let huge = serde_json::json!({"retry_after": 1e12});
        assert_eq!(retry_after(&HeaderMap::new(), &huge).0, MAX_RETRY_AFTER);
        let negative = serde_json::json!({"retry_after": -4.0});
        assert_eq!(retry_after(&HeaderMap::new(), &negative).0, Duration::ZERO);
    }

    #[test]
    fn buckets_differ_by_channel() {
        let a = bucket_key(&Route::ChannelMessages {
            channel_id: ChannelId::new(1),
        });
        let b = bucket_key(&Route::ChannelMessages {
            channel_id: ChannelId::new(2),
        });
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn a_long_hold_fails_fast_and_a_short_one_waits() {
        let rest = Rest::new(&Http::new("Bot x"));
        rest.hold("k", Duration::from_secs(60), false);
        let (wait, global) = rest.blocked("k").unwrap();
        assert!(wait > Duration::from_secs(59) && !global);
        assert!(rest.blocked("other").is_none());
        rest.hold("k2", Duration::from_secs(30), true);
        assert!(
            rest.blocked("other").unwrap().1,
            "global applies to every bucket"
        );
    }
}
