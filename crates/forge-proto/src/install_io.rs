//! `install_io`: the interactive part of an install that never goes into the
//! YAML: the target disk, the credentials, and `dry_run`. Carried over D-Bus
//! as `a{sv}`. Secrets are wrapped in [`Secret`], which never prints its
//! contents and is wiped from memory on drop.

use std::collections::HashMap;
use std::fmt;

use zbus::{OwnedVariant as OwnedValue, Variant as Value};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A password or other secret. `Debug` and `Display` print `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself. Call only where it is hashed or sent to the daemon.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length in characters (for minimum-length checks).
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The `install_io` dictionary of `Install(s yaml, a{sv} install_io)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstallIo {
    /// Block device (`/dev/sdX`) or, where the daemon allows it, an image file.
    pub disk: String,
    pub root_password: Secret,
    pub user_password: Secret,
    /// Optional: the password MokManager asks for at the next boot to
    /// confirm the enrollment of this machine's Secure Boot key (EFI
    /// installs). Given to `mokutil --import` on stdin and nowhere else;
    /// empty means absent (no enrollment is queued; a Warning says how to
    /// enroll later).
    pub secure_boot_password: Secret,
    /// Validate, verify and print the plan of operations; touch nothing.
    pub dry_run: bool,
}

/// Keys of the `install_io` dictionary.
pub mod keys {
    pub const DISK: &str = "disk";
    pub const ROOT_PASSWORD: &str = "root_password";
    pub const USER_PASSWORD: &str = "user_password";
    pub const SECURE_BOOT_PASSWORD: &str = "secure_boot_password";
    pub const DRY_RUN: &str = "dry_run";
}

/// A malformed `install_io` dictionary, naming the offending key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallIoError {
    #[error("install_io.{0}: missing")]
    Missing(&'static str),
    #[error("install_io.{0}: wrong type, expected {1}")]
    WrongType(String, &'static str),
    #[error("install_io.{0}: unknown key")]
    Unknown(String),
}

impl InstallIoError {
    /// The translated `install_io.<key>: message` line shown to people
    /// (the `Display` form is the untranslated one, for logs).
    pub fn message(&self) -> String {
        use crate::i18n::trf;
        match self {
            InstallIoError::Missing(key) => trf("install_io.{key}: missing", &[("key", key)]),
            InstallIoError::WrongType(key, expected) => trf(
                "install_io.{key}: wrong type, expected {expected}",
                &[("key", key), ("expected", expected)],
            ),
            InstallIoError::Unknown(key) => trf("install_io.{key}: unknown key", &[("key", key)]),
        }
    }
}

impl InstallIo {
    /// The `a{sv}` form with owned values: [`InstallIo::to_dbus_borrowed`]
    /// copied (for tests and the test client; clients send the borrowed one).
    pub fn to_dbus(&self) -> HashMap<String, OwnedValue> {
        self.to_dbus_borrowed()
            .into_iter()
            .map(|(k, v)| {
                // Strings and booleans only: owning them cannot fail (only
                // file descriptors can).
                let v = v.try_to_owned().expect("string or boolean value");
                (k.to_string(), v)
            })
            .collect()
    }

    /// The same `a{sv}` dictionary with every string *borrowed* from `self`:
    /// the secrets in it are no copies but the [`Secret`]s' own bytes, which
    /// are wiped when `self` is dropped. Clients send this one
    /// ([`crate::client::Daemon::install`]); [`InstallIo::to_dbus`] makes
    /// owned copies (`Arc<str>` inside each `OwnedValue`) that nothing wipes,
    /// so it is for tests and the daemon's side only.
    pub fn to_dbus_borrowed(&self) -> HashMap<&'static str, Value<'_>> {
        let mut m = HashMap::new();
        m.insert(keys::DISK, Value::from(self.disk.as_str()));
        m.insert(
            keys::ROOT_PASSWORD,
            Value::from(self.root_password.expose()),
        );
        m.insert(
            keys::USER_PASSWORD,
            Value::from(self.user_password.expose()),
        );
        if !self.secure_boot_password.is_empty() {
            m.insert(
                keys::SECURE_BOOT_PASSWORD,
                Value::from(self.secure_boot_password.expose()),
            );
        }
        m.insert(keys::DRY_RUN, Value::from(self.dry_run));
        m
    }

    /// Parses the `a{sv}` form; every key is checked, unknown keys refused.
    pub fn from_dbus(map: &HashMap<String, OwnedValue>) -> Result<InstallIo, InstallIoError> {
        let get_str = |key: &'static str| -> Result<String, InstallIoError> {
            let v = map.get(key).ok_or(InstallIoError::Missing(key))?;
            match &**v {
                Value::Str(s) => Ok(s.to_string()),
                _ => Err(InstallIoError::WrongType(key.to_string(), "string")),
            }
        };
        for k in map.keys() {
            if ![
                keys::DISK,
                keys::ROOT_PASSWORD,
                keys::USER_PASSWORD,
                keys::SECURE_BOOT_PASSWORD,
                keys::DRY_RUN,
            ]
            .contains(&k.as_str())
            {
                return Err(InstallIoError::Unknown(k.clone()));
            }
        }
        let dry_run = match map.get(keys::DRY_RUN) {
            None => false,
            Some(v) => match &**v {
                Value::Bool(b) => *b,
                _ => return Err(InstallIoError::WrongType(keys::DRY_RUN.into(), "boolean")),
            },
        };
        Ok(InstallIo {
            disk: get_str(keys::DISK)?,
            root_password: Secret::new(get_str(keys::ROOT_PASSWORD)?),
            user_password: Secret::new(get_str(keys::USER_PASSWORD)?),
            secure_boot_password: Secret::new(match map.get(keys::SECURE_BOOT_PASSWORD) {
                None => String::new(),
                Some(_) => get_str(keys::SECURE_BOOT_PASSWORD)?,
            }),
            dry_run,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_dictionaries_name_the_key() {
        let io = InstallIo {
            disk: "/dev/vda".into(),
            root_password: Secret::new("rootpass-123"),
            user_password: Secret::new("userpass-123"),
            secure_boot_password: Secret::default(),
            dry_run: true,
        };
        assert_eq!(InstallIo::from_dbus(&io.to_dbus()), Ok(io.clone()));
        // The Secure Boot password is optional: absent is empty, and it
        // travels only when given.
        assert!(!io.to_dbus().contains_key(keys::SECURE_BOOT_PASSWORD));
        let with_sb = InstallIo {
            secure_boot_password: Secret::new("sb-pass-123"),
            ..io.clone()
        };
        assert_eq!(InstallIo::from_dbus(&with_sb.to_dbus()), Ok(with_sb));
        let mut wrong_sb = io.to_dbus();
        wrong_sb.insert(keys::SECURE_BOOT_PASSWORD.into(), OwnedValue::from(true));
        assert_eq!(
            InstallIo::from_dbus(&wrong_sb).unwrap_err().message(),
            "install_io.secure_boot_password: wrong type, expected string"
        );

        let mut missing = io.to_dbus();
        missing.remove(keys::DISK);
        let e = InstallIo::from_dbus(&missing).unwrap_err();
        assert_eq!(e, InstallIoError::Missing(keys::DISK));
        assert_eq!(e.message(), "install_io.disk: missing");

        let mut wrong = io.to_dbus();
        wrong.insert(keys::DRY_RUN.into(), OwnedValue::from(1u32));
        let e = InstallIo::from_dbus(&wrong).unwrap_err();
        assert_eq!(
            e.message(),
            "install_io.dry_run: wrong type, expected boolean"
        );

        let mut unknown = io.to_dbus();
        unknown.insert("colour".into(), OwnedValue::from(true));
        let e = InstallIo::from_dbus(&unknown).unwrap_err();
        assert_eq!(e.message(), "install_io.colour: unknown key");
        assert!(!e.message().contains("rootpass") && !e.message().contains("userpass"));
    }
}
