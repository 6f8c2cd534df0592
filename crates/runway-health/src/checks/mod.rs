//! Built-in checks.

mod http;
mod postgres;
mod redis;
mod tcp;

pub use self::http::{HttpCheck, HttpCheckBuilder, JsonAssertion};
pub use self::postgres::PostgresCheck;
pub use self::redis::{CELERY_DEFAULT_QUEUE, QueueDepthCheck, RedisCheck};
pub use self::tcp::TcpCheck;
