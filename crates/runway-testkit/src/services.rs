//! Real-service fixtures: PostgreSQL, Redis and moto (AWS), never skipped.
//!
//! Each fixture first looks at an environment variable (`RUNWAY_TEST_DATABASE_URL`, `RUNWAY_TEST_REDIS_URL`,
//! `RUNWAY_TEST_MOTO_URL`) and uses that server when set. Otherwise it starts a throwaway server from the
//! machine's binaries on a free loopback port in a temporary directory, shared by the tests of one process
//! and stopped when the last fixture using it is dropped. When neither works the fixture **panics with an
//! install hint**: a test never passes because a service was missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rand::Rng;

/// Environment variable naming an admin URL of a PostgreSQL server for tests.
pub const DATABASE_URL_VAR: &str = "RUNWAY_TEST_DATABASE_URL";
/// Environment variable naming a Redis server for tests.
pub const REDIS_URL_VAR: &str = "RUNWAY_TEST_REDIS_URL";
/// Environment variable naming a running moto server for tests.
pub const MOTO_URL_VAR: &str = "RUNWAY_TEST_MOTO_URL";

const PG_HINT: &str = "PostgreSQL is needed for this test: set RUNWAY_TEST_DATABASE_URL to an admin URL \
(postgres://postgres@127.0.0.1:5432/postgres), or install the server binaries (Debian: apt-get install postgresql) \
so initdb and pg_ctl can start a throwaway server";
const REDIS_HINT: &str = "Redis is needed for this test: set RUNWAY_TEST_REDIS_URL (redis://127.0.0.1:6379), \
or install redis-server (Debian: apt-get install redis-server)";
const MOTO_HINT: &str = "moto is needed for this test: set RUNWAY_TEST_MOTO_URL, or install it with \
pip install 'moto[server]' so moto_server is on PATH";

/// A free TCP port on 127.0.0.1 (bound and released; good enough for test servers).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind a loopback port")
}

fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn is_root() -> bool {
    // The effective uid is not in std; `id -u` is on every machine these tests run on.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn random_suffix() -> String {
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// Find a PostgreSQL binary (`pg_dump`, `pg_restore`, `initdb`, ...): the newest `/usr/lib/postgresql/*/bin`
/// first (so client and server versions match), then `PATH`.
pub fn pg_bin(name: &str) -> Option<PathBuf> {
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((major, p))
        })
        .collect();
    versioned.sort();
    if let Some((_, p)) = versioned.pop() {
        return Some(p);
    }
    which(name)
}

/// Find an executable on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Replace the database name in a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], db);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A throwaway PostgreSQL server in a temporary directory; stopped on drop.
#[derive(Debug)]
pub struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
}

impl PgServer {
    /// Start a new server with `initdb` and `pg_ctl` (as the `postgres` user when running as root).
    pub fn start() -> Result<PgServer, String> {
        let initdb = pg_bin("initdb").ok_or("initdb not found")?;
        let pg_ctl = pg_bin("pg_ctl").ok_or("pg_ctl not found")?;
        let dir = tempfile::Builder::new()
            .prefix("runway-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let root = is_root();
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                return Err(
                    "running as root and cannot chown the data dir to user postgres".into(),
                );
            }
        }
        let data = dir.path().join("data");
        let port = free_port();
        let run = |bin: &Path, args: &[&str]| -> Result<(), String> {
            let mut cmd = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin);
                c
            } else {
                Command::new(bin)
            };
            let out = cmd
                .args(args)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("{}: {e}", bin.display()))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{} failed: {}",
                    bin.display(),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        let data_s = data.to_str().ok_or("non-UTF-8 temp path")?;
        run(
            &initdb,
            &[
                "-D",
                data_s,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            dir.path().display()
        );
        let log = dir.path().join("log");
        run(
            &pg_ctl,
            &[
                "-D",
                data_s,
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap_or("log"),
                "-w",
                "start",
            ],
        )?;
        Ok(PgServer {
            dir,
            port,
            as_postgres_user: root,
        })
    }

    /// The admin URL (`postgres` database, user `postgres`).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stop the server now (`pg_ctl stop -m fast`); dropping does the same.
    pub fn stop(&self) {
        let Some(pg_ctl) = pg_bin("pg_ctl") else {
            return;
        };
        let data = self.dir.path().join("data");
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        let _ = cmd
            .arg("-D")
            .arg(data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

static SHARED_PG: Mutex<Weak<PgServer>> = Mutex::new(Weak::new());

fn shared_pg() -> Arc<PgServer> {
    let mut slot = SHARED_PG.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let server = Arc::new(PgServer::start().unwrap_or_else(|e| panic!("{PG_HINT}\n({e})")));
    *slot = Arc::downgrade(&server);
    server
}

/// A fresh, empty PostgreSQL database for one test; dropped (with `FORCE`) when the fixture is dropped.
///
/// ```no_run
/// # #[tokio::main] async fn main() {
/// let db = runway_testkit::TestDatabase::create().await;
/// let pool = db.pool().await;
/// let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await.unwrap();
/// assert_eq!(one, 1);
/// # }
/// ```
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
    _server: Option<Arc<PgServer>>,
}

impl TestDatabase {
    /// Create a database on `RUNWAY_TEST_DATABASE_URL`'s server, or on a throwaway server.
    ///
    /// # Panics
    /// With an install hint when no server can be reached or started.
    pub async fn create() -> TestDatabase {
        let (admin_url, server) = match std::env::var(DATABASE_URL_VAR) {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                let s = tokio::task::spawn_blocking(shared_pg)
                    .await
                    .unwrap_or_else(|e| panic!("{PG_HINT}\n({e})"));
                (s.admin_url(), Some(s))
            }
        };
        Self::create_on(admin_url, server).await
    }

    /// Create a database on a specific server (for tests that start their own).
    pub async fn create_on_server(server: Arc<PgServer>) -> TestDatabase {
        Self::create_on(server.admin_url(), Some(server)).await
    }

    async fn create_on(admin_url: String, server: Option<Arc<PgServer>>) -> TestDatabase {
        let name = format!("runway_test_{}", random_suffix());
        let mut conn = connect_admin(&admin_url).await;
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&admin_url, &name);
        TestDatabase {
            name,
            url,
            admin_url,
            _server: server,
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's admin URL (database `postgres`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A small connection pool to the database.
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test database {}: {e}", self.name))
    }

    /// Another fresh database on the same server (for restore targets and scratch copies).
    pub async fn sibling(&self) -> TestDatabase {
        Self::create_on(self.admin_url.clone(), self._server.clone()).await
    }
}

async fn connect_admin(admin_url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match sqlx::PgConnection::connect(admin_url).await {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(error = %e, "waiting for PostgreSQL");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{PG_HINT}\n(cannot connect to the admin URL: {e})"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Async drop is not possible; a helper thread with its own runtime drops the database.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::Executor::execute(
                        &mut c,
                        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                    )
                    .await;
                }
            });
        })
        .join();
    }
}

/// A throwaway `redis-server`; stopped on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Mutex<Option<Child>>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Start a server on a free port, without persistence.
    pub fn start() -> Result<RedisServer, String> {
        let bin = which("redis-server").ok_or("redis-server not found")?;
        let dir = tempfile::Builder::new()
            .prefix("runway-redis-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let port = free_port();
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e}"))?;
        if !wait_for_port(port, Duration::from_secs(10)) {
            return Err("redis-server did not start listening".into());
        }
        Ok(RedisServer {
            child: Mutex::new(Some(child)),
            port,
            _dir: dir,
        })
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stop the server now (tests of "Redis stopped").
    pub fn stop(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

static SHARED_REDIS: Mutex<Weak<RedisServer>> = Mutex::new(Weak::new());

/// A Redis server for one test, with a unique key prefix so tests sharing a server never collide.
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    prefix: String,
    _server: Option<Arc<RedisServer>>,
}

impl TestRedis {
    /// `RUNWAY_TEST_REDIS_URL`'s server, or a throwaway one.
    ///
    /// # Panics
    /// With an install hint when no server can be reached or started.
    pub async fn start() -> TestRedis {
        let prefix = format!("runway-test-{}:", random_suffix());
        match std::env::var(REDIS_URL_VAR) {
            Ok(url) if !url.is_empty() => TestRedis {
                url,
                prefix,
                _server: None,
            },
            _ => {
                let server = tokio::task::spawn_blocking(|| {
                    let mut slot = SHARED_REDIS.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(s) = slot.upgrade() {
                        return s;
                    }
                    let s = Arc::new(
                        RedisServer::start().unwrap_or_else(|e| panic!("{REDIS_HINT}\n({e})")),
                    );
                    *slot = Arc::downgrade(&s);
                    s
                })
                .await
                .unwrap_or_else(|e| panic!("{REDIS_HINT}\n({e})"));
                TestRedis {
                    url: server.url(),
                    prefix,
                    _server: Some(server),
                }
            }
        }
    }

    /// A private throwaway server that the test may stop.
    pub fn private() -> (TestRedis, Arc<RedisServer>) {
        let server =
            Arc::new(RedisServer::start().unwrap_or_else(|e| panic!("{REDIS_HINT}\n({e})")));
        (
            TestRedis {
                url: server.url(),
                prefix: format!("runway-test-{}:", random_suffix()),
                _server: Some(server.clone()),
            },
            server,
        )
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This test's key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `prefix + name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A multiplexed connection.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url.as_str())
            .unwrap_or_else(|e| panic!("invalid Redis URL: {e}"));
        client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("{REDIS_HINT}\n(cannot connect: {e})"))
    }
}

/// A moto server (AWS emulator: Secrets Manager, CloudWatch Logs, S3); stopped on drop unless external.
#[derive(Debug)]
pub struct MotoServer {
    url: String,
    child: Mutex<Option<Child>>,
}

impl MotoServer {
    /// `RUNWAY_TEST_MOTO_URL`, or a new `moto_server` on a free port.
    ///
    /// # Panics
    /// With an install hint when moto is not installed or does not start.
    pub fn start() -> MotoServer {
        if let Ok(url) = std::env::var(MOTO_URL_VAR)
            && !url.is_empty()
        {
            return MotoServer {
                url,
                child: Mutex::new(None),
            };
        }
        let bin = which("moto_server")
            .unwrap_or_else(|| panic!("{MOTO_HINT}\n(moto_server not on PATH)"));
        let port = free_port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{MOTO_HINT}\n({e})"));
        let server = MotoServer {
            url: format!("http://127.0.0.1:{port}"),
            child: Mutex::new(Some(child)),
        };
        if !wait_for_port(port, Duration::from_secs(30)) {
            panic!("{MOTO_HINT}\n(moto_server did not start listening on {port})");
        }
        server
    }

    /// The endpoint URL for the AWS SDK (`endpoint_url`).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_rewrite() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
