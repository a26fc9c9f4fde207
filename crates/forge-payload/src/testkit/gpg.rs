//! Signatures made by gpg itself (`gpg --detach-sign --armor`, what a
//! distributor runs), for the tests that prove sequoia accepts them.

use std::path::{Path, PathBuf};

/// A gpg home for tests that need signatures made by gpg itself. Dropping
/// it stops the gpg-agent it started.
#[derive(Debug)]
pub struct Gpg {
    home: PathBuf,
    /// Fingerprint of the certify-only primary key.
    pub primary: String,
}

impl Gpg {
    fn cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new("gpg");
        c.env("GNUPGHOME", &self.home).args([
            "--batch",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        c
    }

    /// Creates `home` (mode 0700) with an ed25519 certify-only primary key and
    /// an ed25519 signing subkey, made by gpg. `None` when gpg is not installed.
    pub fn new(home: &Path, userid: &str) -> Option<Gpg> {
        use std::os::unix::fs::PermissionsExt;
        if std::process::Command::new("gpg")
            .arg("--version")
            .output()
            .is_err()
        {
            return None;
        }
        std::fs::create_dir_all(home).expect("gpg home");
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let mut g = Gpg {
            home: home.to_path_buf(),
            primary: String::new(),
        };
        let ok = g
            .cmd()
            .args(["--quick-gen-key", userid, "ed25519", "cert", "never"])
            .status()
            .expect("run gpg");
        assert!(ok.success(), "gpg --quick-gen-key failed");
        let out = g
            .cmd()
            .args(["--with-colons", "--list-keys", userid])
            .output()
            .expect("run gpg");
        let text = String::from_utf8_lossy(&out.stdout);
        g.primary = text
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("primary fingerprint")
            .to_string();
        let ok = g
            .cmd()
            .args(["--quick-add-key", &g.primary, "ed25519", "sign", "never"])
            .status()
            .expect("run gpg");
        assert!(ok.success(), "gpg --quick-add-key failed");
        Some(g)
    }

    /// Exports the public keys (armored) to `out`.
    pub fn export_public(&self, out: &Path) {
        let o = self
            .cmd()
            .args(["--armor", "--export", &self.primary])
            .output()
            .expect("run gpg");
        assert!(
            o.status.success() && !o.stdout.is_empty(),
            "gpg --export failed"
        );
        std::fs::write(out, o.stdout).expect("write keyring");
    }

    /// `gpg --detach-sign --armor` of `file` into `out` (uses the signing subkey).
    pub fn detach_sign(&self, file: &Path, out: &Path) {
        let ok = self
            .cmd()
            .args(["--yes", "--detach-sign", "--armor", "-o"])
            .arg(out)
            .arg(file)
            .status()
            .expect("run gpg");
        assert!(ok.success(), "gpg --detach-sign failed");
    }

    /// Signs manifest and index of the payload in `dir` with gpg.
    pub fn sign_payload(&self, dir: &Path) {
        use crate::index::{INDEX, INDEX_SIG, MANIFEST, MANIFEST_SIG};
        self.detach_sign(&dir.join(MANIFEST), &dir.join(MANIFEST_SIG));
        self.detach_sign(&dir.join(INDEX), &dir.join(INDEX_SIG));
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}
