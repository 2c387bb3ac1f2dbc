//! Canned failures for REST calls, and what a RESUME gets.

use super::*;

/// What the fake does with a RESUME (op 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeMode {
    /// Accept it when the session id is the current one: replay the
    /// dispatches after the client's `seq`, then send RESUMED.
    Resume,
    /// Answer op 9 (invalid session, not resumable): the client must
    /// IDENTIFY again and gets a fresh READY.
    InvalidSession,
}

/// A canned failure for REST calls.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Fault {
    /// A Discord-like error for `status` (429 gets `retry_after` and the
    /// rate-limit headers).
    pub fn status(status: u16) -> Fault {
        match status {
            429 => Fault::rate_limited(0.25),
            403 => Fault::missing_access(),
            404 => Fault::unknown_channel(),
            s => Fault {
                status: s,
                body: json!({
                    "message": format!(
                        "{s}: {}",
                        StatusCode::from_u16(s)
                            .ok()
                            .and_then(|c| c.canonical_reason())
                            .unwrap_or("Fake Failure")
                    ),
                    "code": 0
                }),
                headers: vec![],
            },
        }
    }

    pub fn rate_limited(retry_after_secs: f64) -> Fault {
        Fault {
            status: 429,
            body: json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after_secs,
                "global": false,
                "code": 0,
            }),
            headers: vec![
                (
                    "retry-after".into(),
                    format!("{}", retry_after_secs.ceil() as u64),
                ),
                ("x-ratelimit-limit".into(), "5".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                (
                    "x-ratelimit-reset-after".into(),
                    format!("{retry_after_secs}"),
                ),
                ("x-ratelimit-bucket".into(), "fakebucket".into()),
                ("x-ratelimit-scope".into(), "user".into()),
                ("x-ratelimit-global".into(), "false".into()),
            ],
        }
    }

    pub fn missing_access() -> Fault {
        Fault {
            status: 403,
            body: json!({"message": "Missing Access", "code": 50001}),
            headers: vec![],
        }
    }

    pub fn missing_permissions() -> Fault {
        Fault {
            status: 403,
            body: json!({"message": "Missing Permissions", "code": 50013}),
            headers: vec![],
        }
    }

    pub fn unknown_channel() -> Fault {
        Fault {
            status: 404,
            body: json!({"message": "Unknown Channel", "code": 10003}),
            headers: vec![],
        }
    }
}
