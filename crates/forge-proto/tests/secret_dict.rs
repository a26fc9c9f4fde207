//! The `install_io` dictionary a client sends holds no copy of the secrets:
//! its string values point into the [`Secret`]s themselves, which are wiped
//! on drop. Any copy would be a password left in freed client memory.

use std::collections::HashMap;

use forge_proto::install_io::keys;
use forge_proto::{InstallIo, Secret};
use zbus::{OwnedVariant as OwnedValue, Variant as Value};

fn io() -> InstallIo {
    InstallIo {
        disk: "/dev/vda".into(),
        root_password: Secret::new("rootpass-123"),
        user_password: Secret::new("userpass-123"),
        secure_boot_password: Secret::new("mok-pass-123"),
        dry_run: false,
    }
}

#[test]
fn the_sent_dictionary_borrows_every_secret() {
    let io = io();
    let dict = io.to_dbus_borrowed();
    for (key, secret) in [
        (keys::ROOT_PASSWORD, &io.root_password),
        (keys::USER_PASSWORD, &io.user_password),
        (keys::SECURE_BOOT_PASSWORD, &io.secure_boot_password),
    ] {
        let Some(Value::Str(s)) = dict.get(key) else {
            panic!("{key}: not a string in the dictionary");
        };
        assert_eq!(s.as_str(), secret.expose(), "{key}");
        assert_eq!(
            s.as_str().as_ptr(),
            secret.expose().as_ptr(),
            "{key}: the dictionary holds a copy of the secret"
        );
    }
}

#[test]
fn the_sent_dictionary_is_what_the_daemon_parses() {
    let io = io();
    let owned: HashMap<String, OwnedValue> = io
        .to_dbus_borrowed()
        .iter()
        .map(|(k, v)| {
            let v = OwnedValue::try_from(v.try_clone().expect("clone")).expect("owned");
            (k.to_string(), v)
        })
        .collect();
    assert_eq!(InstallIo::from_dbus(&owned), Ok(io.clone()));
    assert_eq!(owned.len(), io.to_dbus().len());
}
