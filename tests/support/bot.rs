//! Runs the product binary (`massage-bot run`) against a [`FakeDiscord`],
//! capturing its output.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{FakeDiscord, TOKEN};

/// Environment variables of the product that the test process must not leak
/// into the bot, and proxy settings that would send 127.0.0.1 elsewhere.
const SCRUBBED: &[&str] = &[
    "DISCORD_TOKEN",
    "DISCORD_PROXY_URL",
    "DEV_GUILD_ID",
    "KNOWLEDGE_PATH",
    "DATABASE_URL",
    "HEALTH_ADDR",
    "INTERACTIONS_ADDR",
    "DISCORD_PUBLIC_KEY",
    "DISCORD_RATE_LIMIT",
    "TIP_LEASE_SECS",
    "GATEWAY_GIVE_UP_SECS",
    "RUST_LOG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// Path of the product binary: Cargo's `CARGO_BIN_EXE_massage-bot`, set
/// for integration tests and benches alike.
pub fn bot_exe() -> &'static str {
    env!("CARGO_BIN_EXE_massage-bot")
}

/// The bot as a child process. Killed when dropped.
pub struct BotProcess {
    child: Option<Child>,
    pid: u32,
    logs: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
    readers: Vec<std::thread::JoinHandle<()>>,
    /// Working directory (no `.env` there) holding the database.
    pub dir: tempfile::TempDir,
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn pump(
    mut r: impl Read + Send + 'static,
    logs: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(&mut r);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let s = strip_ansi(&String::from_utf8_lossy(&line));
                    let mut l = logs.lock().unwrap_or_else(|e| e.into_inner());
                    l.push_str(&s);
                    if !s.ends_with('\n') {
                        l.push('\n');
                    }
                }
            }
        }
    })
}

/// Removes ANSI escape sequences (colours), so logs can be searched as text.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl BotProcess {
    /// `massage-bot run` against `fake` with the standard environment
    /// (token, proxy URL, RUST_LOG, a fresh SQLite file), plus `extra_env`
    /// (which may override those).
    pub fn spawn(fake: &FakeDiscord, extra_env: &[(&str, &str)]) -> BotProcess {
        BotProcess::spawn_with(Some(fake), extra_env, &[], &["run"])
    }

    /// Full control: `fake` (if any) gives DISCORD_PROXY_URL; `extra_env` is
    /// applied after the defaults; `remove_env` is removed last; `args` are
    /// the command line.
    pub fn spawn_with(
        fake: Option<&FakeDiscord>,
        extra_env: &[(&str, &str)],
        remove_env: &[&str],
        args: &[&str],
    ) -> BotProcess {
        BotProcess::spawn_wrapped(fake, extra_env, remove_env, args, &[])
    }

    /// Like [`spawn_with`](Self::spawn_with), run through `wrapper` (a
    /// command that execs the rest, e.g. `prlimit --nofile=1024:1024 --`).
    pub fn spawn_wrapped(
        fake: Option<&FakeDiscord>,
        extra_env: &[(&str, &str)],
        remove_env: &[&str],
        args: &[&str],
        wrapper: &[&str],
    ) -> BotProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = format!("sqlite://{}/bot.db", dir.path().display());
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(bot_exe());
                c
            }
            None => Command::new(bot_exe()),
        };
        cmd.args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for k in SCRUBBED {
            cmd.env_remove(k);
        }
        cmd.env("DISCORD_TOKEN", TOKEN)
            .env("RUST_LOG", "info,massage_bot=debug")
            .env("DATABASE_URL", &db)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1");
        if let Some(f) = fake {
            cmd.env("DISCORD_PROXY_URL", f.base_url());
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        for k in remove_env {
            cmd.env_remove(k);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bot_exe()));
        let logs = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            pump(child.stdout.take().expect("stdout"), logs.clone()),
            pump(child.stderr.take().expect("stderr"), logs.clone()),
        ];
        BotProcess {
            pid: child.id(),
            child: Some(child),
            logs,
            status: None,
            readers,
            dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything printed so far (stdout and stderr, line by line interleaved).
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the logs contain `needle`; false after `timeout`.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.logs().contains(needle) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process has exited (without waiting).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(s)) = c.try_wait() {
                    self.status = Some(s);
                }
            }
        }
        self.status
    }

    /// Waits for the process to exit; `None` after `timeout` (it keeps running).
    /// Once it has exited, the output is read to the end.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_status() {
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return Some(s);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits (up to `timeout`) for the exit status; the
    /// process is killed if it outlives that, and `None` is returned.
    pub async fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.signal("TERM");
        let s = self.wait_exit(timeout).await;
        if s.is_none() {
            if let Some(c) = self.child.as_mut() {
                let _ = c.kill();
            }
        }
        s
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`) with `kill(1)`.
    pub fn signal(&self, name: &str) {
        if self.status.is_some() {
            return;
        }
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// A field of `/proc/PID/status` in kB (e.g. `VmHWM`, `VmRSS`).
    pub fn proc_status_kb(&self, field: &str) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        s.lines()
            .find(|l| l.starts_with(&format!("{field}:")))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}
