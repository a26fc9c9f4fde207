//! Phase 2: the two paired checks of the root filesystem (seed 003, "The
//! trust chain"): the dm-verity hash tree and root hash (`veritysetup
//! format`, salt and UUID derived from the squashfs' SHA-256 so two builds
//! of the same inputs agree), and the whole-file SHA-256. [`assert_pair`]
//! is the build-time assertion: a build whose `filesystem.verity` or
//! `filesystem.sha256` is missing or empty fails here, never at boot.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

use crate::fault::{self, Fault};
use crate::{hash, tools};

/// What `veritysetup format` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verity {
    /// The root hash (hex), sealed in the UKIs' command line.
    pub root_hash: String,
    /// The salt given to veritysetup (hex).
    pub salt: String,
    /// The UUID in the hash tree's superblock.
    pub uuid: String,
}

/// The salt: SHA-256 over a domain tag and the squashfs' SHA-256.
pub fn derive_salt(squashfs_sha256: &str) -> String {
    hash::bytes(format!("forge-iso dm-verity salt\0{squashfs_sha256}").as_bytes())
}

/// The UUID: 16 bytes of SHA-256 over a domain tag and the squashfs' SHA-256,
/// with RFC 4122 version 4 / variant bits.
pub fn derive_uuid(squashfs_sha256: &str) -> String {
    let h = hash::bytes(format!("forge-iso dm-verity uuid\0{squashfs_sha256}").as_bytes());
    let mut b = hex::decode(&h[..32]).expect("hex");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// `veritysetup format SQUASHFS VERITY` (4 KiB blocks, sha256, format 1 with
/// superblock): the hash tree goes to `verity_out`.
pub fn format(
    squashfs: &Path,
    squashfs_sha256: &str,
    verity_out: &Path,
    sde: u64,
) -> Result<Verity> {
    let salt = derive_salt(squashfs_sha256);
    let uuid = derive_uuid(squashfs_sha256);
    if verity_out.exists() {
        std::fs::remove_file(verity_out)?;
    }
    let stdout = tools::run(
        tools::command("veritysetup", sde)
            .arg("format")
            .arg(squashfs)
            .arg(verity_out)
            .args(["--hash=sha256", "--format=1"])
            .args(["--data-block-size=4096", "--hash-block-size=4096"])
            .arg(format!("--salt={salt}"))
            .arg(format!("--uuid={uuid}")),
    )?;
    let root_hash = parse_root_hash(&stdout)?;
    if fault::active(Fault::EmptyVerity) {
        std::fs::write(verity_out, b"")?;
    }
    Ok(Verity {
        root_hash,
        salt,
        uuid,
    })
}

/// The `Root hash:` line of `veritysetup format`'s report (64 hex digits for sha256).
pub fn parse_root_hash(report: &str) -> Result<String> {
    let value = report
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:"))
        .map(str::trim)
        .context("veritysetup printed no \"Root hash:\" line")?;
    ensure!(
        value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "veritysetup's root hash {value:?} is not 64 lowercase hex digits"
    );
    Ok(value.to_owned())
}

/// Writes `filesystem.sha256` in sha256sum's format.
pub fn write_sha256(squashfs_sha256: &str, out: &Path) -> Result<()> {
    if fault::active(Fault::MissingSha256) {
        return Ok(());
    }
    std::fs::write(out, format!("{squashfs_sha256}  filesystem.squashfs\n"))
        .with_context(|| format!("writing {}", out.display()))
}

/// The seed's build-time assertion: both halves of the pairing exist and are non-empty.
pub fn assert_pair(verity: &Path, sha256: &Path) -> Result<()> {
    for (path, what) in [
        (verity, "dm-verity hash tree"),
        (sha256, "SHA-256 fallback"),
    ] {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() > 0 => {}
            Ok(_) => bail!(
                "the {what} {} is empty: refusing to build a medium whose root filesystem cannot be verified",
                path.display()
            ),
            Err(_) => bail!(
                "the {what} {} is missing: refusing to build a medium whose root filesystem cannot be verified",
                path.display()
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_hash_is_parsed_from_the_report() {
        let report = "VERITY header information for x\nUUID:            \tab\nHash type:       \t1\n\
                      Salt:            \t00\nRoot hash:      \t4f2a0c6d9e1b3a5f7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d\n";
        assert_eq!(
            parse_root_hash(report).unwrap(),
            "4f2a0c6d9e1b3a5f7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
        );
        assert!(parse_root_hash("Root hash: xyz\n").is_err());
        assert!(parse_root_hash("nothing\n").is_err());
    }

    #[test]
    fn salt_and_uuid_follow_the_squashfs() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        assert_eq!(derive_salt(&a), derive_salt(&a));
        assert_ne!(derive_salt(&a), derive_salt(&b));
        let u = derive_uuid(&a);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, derive_uuid(&b));
    }

    #[test]
    fn the_pair_assertion_refuses_missing_and_empty_files() {
        let d = tempfile::tempdir().unwrap();
        let (v, s) = (
            d.path().join("filesystem.verity"),
            d.path().join("filesystem.sha256"),
        );
        assert!(assert_pair(&v, &s)
            .unwrap_err()
            .to_string()
            .contains("missing"));
        std::fs::write(&v, b"x").unwrap();
        std::fs::write(&s, b"").unwrap();
        assert!(assert_pair(&v, &s)
            .unwrap_err()
            .to_string()
            .contains("SHA-256 fallback"));
        std::fs::write(&s, b"y").unwrap();
        assert_pair(&v, &s).unwrap();
        std::fs::write(&v, b"").unwrap();
        assert!(assert_pair(&v, &s)
            .unwrap_err()
            .to_string()
            .contains("dm-verity"));
    }
}
