//! A throwaway PostgreSQL cluster for the tests, from the Debian package's
//! binaries (`/usr/lib/postgresql/<version>/bin`, or `PG_BIN`): one per
//! test binary, on a free loopback port, started on first use. Each test
//! gets a database of its own. PostgreSQL refuses to run as root, so as
//! root the cluster runs as the package's `postgres` user.
//!
//! Nothing is skipped when PostgreSQL is missing: the tests fail and say
//! to run `scripts/test`, which installs it (README, "Tests").
//!
//! A watchdog process stops the cluster and removes its files once this
//! test binary exits, however it exits.

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Cluster {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    next_db: AtomicUsize,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(Cluster::start)
}

/// A fresh, empty database on the cluster: its `DATABASE_URL`.
pub fn fresh_database() -> String {
    cluster().database()
}

/// The directory with `initdb` and `postgres`: `PG_BIN`, or the newest
/// version the Debian package installed.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). \
             Run the tests with `scripts/test`, which installs it, or set PG_BIN."
        ),
    }
}

/// The uid and gid to run the server as: the `postgres` user when we are
/// root (the server refuses root), else ourselves.
fn server_user() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        assert!(
            out.status.success(),
            "running as root, and there is no `postgres` user to run PostgreSQL as \
             (the Debian package creates it)"
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("numeric id")
    };
    Some((id("-u"), id("-g")))
}

fn as_server_user(cmd: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        // std drops root's supplementary groups when it changes the uid.
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port()
}

impl Cluster {
    fn start() -> Cluster {
        let bin = bin_dir();
        let user = server_user();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("massage-bot-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown cluster dir");
        }
        let data = dir.join("data");
        let out = as_server_user(
            Command::new(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "massage", "--auth=trust", "-E", "UTF8", "--no-sync"])
                .current_dir(&dir),
            user,
        )
        .output()
        .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        // Stop the server and remove its files when this process ends,
        // even on a panic or a kill.
        let log = std::fs::File::create(dir.join("server.log")).expect("server log");
        let port = free_port();
        let server = as_server_user(
            Command::new(bin.join("postgres"))
                .arg("-D")
                .arg(&data)
                .arg("-k")
                .arg(&dir)
                .args(["-p", &port.to_string()])
                .args(["-c", "listen_addresses=127.0.0.1"])
                .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log),
            user,
        )
        .spawn()
        .expect("start postgres");
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
             kill -QUIT {pg} 2>/dev/null; sleep 1; kill -KILL {pg} 2>/dev/null; rm -rf '{dir}'",
            me = std::process::id(),
            pg = server.id(),
            dir = dir.display()
        );
        let watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start the cluster watchdog");
        // Both outlive this process on purpose: the watchdog ends the
        // server once we are gone.
        std::mem::forget(watchdog);
        std::mem::forget(server);

        let cluster = Cluster {
            port,
            bin,
            dir,
            next_db: AtomicUsize::new(0),
        };
        cluster.wait_ready();
        cluster
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = self
                .client("pg_isready")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start within 60 s; its log:\n{}",
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One of the cluster's client programs, pointed at it.
    fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "massage",
        ]);
        cmd
    }

    /// Creates an empty database and returns its URL.
    pub fn database(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        let out = self
            .client("createdb")
            .arg(&name)
            .output()
            .expect("run createdb");
        assert!(
            out.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(&name)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://massage@127.0.0.1:{}/{db}", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
