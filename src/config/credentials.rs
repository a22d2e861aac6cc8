//! The API key: a client id and its secret, checked once and kept out of every `Debug`.

use std::fmt;
use zeroize::Zeroizing;

use super::{env_var, ClientAuth, ENV_CLIENT_ID, ENV_CLIENT_SECRET};
use crate::error::{Error, ErrorKind, Result};

/// An API key from 8x8 Admin Console. The secret is wiped from memory when the credentials are dropped and
/// never appears in `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    client_id: String,
    secret: Zeroizing<String>,
}

impl Credentials {
    /// Checks what every style of sending them needs; whether an id may hold ':' depends on the style
    /// (`check_for`). The secret may hold any character.
    pub fn new(client_id: &str, secret: &str) -> Result<Credentials> {
        if client_id.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "the client id is empty; use the key's id from 8x8 Admin Console",
            ));
        }
        if client_id.chars().any(char::is_control) {
            return Err(Error::new(
                ErrorKind::Config,
                "the client id contains control characters",
            ));
        }
        if secret.is_empty() {
            return Err(Error::new(ErrorKind::Config, "the client secret is empty"));
        }
        Ok(Credentials {
            client_id: client_id.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        })
    }

    /// Reads `X8_CLIENT_ID` and `X8_CLIENT_SECRET`.
    pub fn from_env() -> Result<Credentials> {
        let id = env_var(ENV_CLIENT_ID)?
            .ok_or_else(|| Error::new(ErrorKind::Config, format!("{ENV_CLIENT_ID} is not set")))?;
        let secret = Zeroizing::new(env_var(ENV_CLIENT_SECRET)?.ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("{ENV_CLIENT_SECRET} is not set"))
        })?);
        Credentials::new(&id, &secret)
    }

    /// 8x8's raw Basic authentication joins id and secret with ':', so an id holding ':' could never be sent
    /// correctly that way; the RFC 6749 styles encode it.
    pub fn check_for(&self, style: ClientAuth) -> Result<()> {
        if style == ClientAuth::Basic && self.client_id.contains(':') {
            return Err(Error::new(
                ErrorKind::Config,
                "the client id contains ':', which 8x8's HTTP Basic authentication cannot carry; check that id and secret \
                 are not swapped or joined (a server that form-encodes credentials takes it with the basic-rfc6749 style)",
            ));
        }
        Ok(())
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colon_in_the_id_is_refused_for_8x8s_basic_only_and_never_in_the_secret() {
        let joined = Credentials::new("a:b", "s").unwrap();
        assert!(joined.check_for(ClientAuth::BasicRfc6749).is_ok());
        assert!(joined.check_for(ClientAuth::Post).is_ok());
        let e = joined.check_for(ClientAuth::Basic).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("':'"));
        let c = Credentials::new("id", "p:ss w\u{e9}rd:").unwrap();
        assert_eq!(c.secret(), "p:ss w\u{e9}rd:");
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let c = Credentials::new("id", "hunter2-secret").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
