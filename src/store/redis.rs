//! The shared token in Redis, for fleets on several hosts: a `SharedStore` over the `redis` crate's
//! synchronous client.
//!
//! - The record under the store key (`x8:token:<sha256>`) with `SET key record PX <ms to expiry>`: Redis
//!   forgets it when the token dies.
//! - The lock under `<key>:lock` with `SET ... NX PX <ttl>`, holding a random value of this client; released by
//!   a script that deletes it only while it still holds that value, so a lock that expired and was taken by
//!   another process is never released by the wrong one. A refused token is removed the same way, only while
//!   the record is still the refused one.
//! - One connection per client, opened on first use and dropped on any error, so the next call reconnects (a
//!   kept connection found dead, as after a Redis restart, is replaced at once and the command sent again).
//!   Connecting and every command are bounded by a short timeout: a Redis that is down or unreachable costs a
//!   token fetch a fraction of a second before the client fetches on its own.
//!
//! No secret goes to Redis: only the token record. The Redis URL's password never appears in a message.

use parking_lot::Mutex;
use std::time::Duration;
use zeroize::Zeroizing;

use super::{SharedStore, StoreResult};
use crate::error::{Error, ErrorKind, Result};

/// Bound on connecting to Redis and on each command. Redis answers in well under a millisecond on a LAN; a
/// Redis that does not answer in this time is treated as down for this call.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(200);

/// Deletes KEYS[1] only if it still holds ARGV[1].
const DELETE_IF_EQUAL: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

pub struct RedisStore {
    client: redis::Client,
    connection: Mutex<Option<redis::Connection>>,
    /// This client's lock value.
    owner: String,
    shown: String,
}

impl RedisStore {
    /// Checks the URL (`redis://[[user]:password@]host[:port][/db]`, or `unix:///path/to/socket`); connects
    /// only when first used.
    pub fn open(url: &str) -> Result<RedisStore> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "the Redis URL is not valid ({}); expected redis://[[user]:password@]host[:port][/db] or unix:///path",
                    redact(&e.to_string(), url)
                ),
            )
        })?;
        let info = client.get_connection_info();
        let db = info.redis_settings().db();
        let shown = if db == 0 {
            format!("Redis at {}", info.addr())
        } else {
            format!("Redis at {} db {db}", info.addr())
        };
        Ok(RedisStore {
            client,
            connection: Mutex::new(None),
            owner: format!(
                "x8:{}:{:016x}{:016x}",
                std::process::id(),
                fastrand::u64(..),
                fastrand::u64(..)
            ),
            shown,
        })
    }

    /// Runs `f` on the connection, connecting first if needed; any error drops the connection. A connection
    /// kept from an earlier call that turns out to be dead (Redis restarted, a proxy closed it) is replaced and
    /// `f` tried once more on a new one; a timeout is not retried.
    fn with_connection<T>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> StoreResult<T> {
        let mut slot = self.connection.lock();
        let reused = slot.is_some();
        match self.run(&mut slot, &f) {
            Err(e)
                if reused && !e.is_timeout() && (e.is_connection_dropped() || e.is_io_error()) =>
            {
                Ok(self.run(&mut slot, &f)?)
            }
            outcome => Ok(outcome?),
        }
    }

    fn run<T>(
        &self,
        slot: &mut Option<redis::Connection>,
        f: &impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let connection = match slot {
            Some(c) => c,
            None => {
                let c = self.client.get_connection_with_timeout(REDIS_TIMEOUT)?;
                c.set_read_timeout(Some(REDIS_TIMEOUT))?;
                c.set_write_timeout(Some(REDIS_TIMEOUT))?;
                slot.insert(c)
            }
        };
        let result = f(connection);
        if result.is_err() {
            // After a timeout a reply may still be on its way: never reuse such a connection.
            *slot = None;
        }
        result
    }

    fn lock_key(key: &str) -> String {
        format!("{key}:lock")
    }
}

fn millis(d: Duration) -> u64 {
    (d.as_millis().min(u128::from(u64::MAX)) as u64).max(1)
}

/// `text` without the URL's user-info (user and password), should an error message ever quote it.
fn redact(text: &str, url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return text.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) if !userinfo.is_empty() => text.replace(userinfo, "***"),
        _ => text.to_owned(),
    }
}

impl SharedStore for RedisStore {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn load(&self, key: &str) -> StoreResult<Option<Zeroizing<String>>> {
        let found: Option<String> =
            self.with_connection(|c| redis::cmd("GET").arg(key).query(c))?;
        Ok(found.map(Zeroizing::new))
    }

    fn store(&self, key: &str, record: &str, ttl: Duration) -> StoreResult<()> {
        self.with_connection(|c| {
            redis::cmd("SET")
                .arg(key)
                .arg(record)
                .arg("PX")
                .arg(millis(ttl))
                .query::<()>(c)
        })
    }

    fn lock(&self, key: &str, ttl: Duration) -> StoreResult<bool> {
        let taken: Option<String> = self.with_connection(|c| {
            redis::cmd("SET")
                .arg(Self::lock_key(key))
                .arg(&self.owner)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl))
                .query(c)
        })?;
        Ok(taken.is_some())
    }

    fn unlock(&self, key: &str) -> StoreResult<()> {
        self.with_connection(|c| {
            redis::cmd("EVAL")
                .arg(DELETE_IF_EQUAL)
                .arg(1)
                .arg(Self::lock_key(key))
                .arg(&self.owner)
                .query::<()>(c)
        })
    }

    fn remove(&self, key: &str, record: &str) -> StoreResult<()> {
        self.with_connection(|c| {
            redis::cmd("EVAL")
                .arg(DELETE_IF_EQUAL)
                .arg(1)
                .arg(key)
                .arg(record)
                .query::<()>(c)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_without_connecting_and_never_shown_with_their_password() {
        let store = RedisStore::open("redis://:hunter2@127.0.0.1:6399/3").unwrap();
        assert_eq!(store.describe(), "Redis at 127.0.0.1:6399 db 3");
        assert!(!format!("{:?}", &store as &dyn SharedStore).contains("hunter2"));
        for bad in [
            "http://127.0.0.1",
            "redis://",
            "nonsense",
            "redis://h:99999999",
        ] {
            let e = RedisStore::open(bad).err().unwrap();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
        }
        let e = RedisStore::open("rediss://user:hunter2@h:1").err();
        if let Some(e) = e {
            assert!(!e.message().contains("hunter2"), "{}", e.message());
        }
        assert_eq!(
            redact("bad user:pw@x", "redis://user:pw@x:1/0"),
            "bad ***@x"
        );
    }

    #[test]
    fn a_redis_that_is_not_there_fails_fast() {
        // A port nothing listens on: refused at once; the call must not hang either way.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let store = RedisStore::open(&format!("redis://127.0.0.1:{port}")).unwrap();
        let started = std::time::Instant::now();
        assert!(store.load("x8:token:k").is_err());
        assert!(store.lock("x8:token:k", Duration::from_secs(1)).is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
