//! Shared fixtures of the adversarial corpus: a scratch area with the
//! payload, the deployment root and an "outside" directory, plus a snapshot
//! of everything outside the root (and of the host's /etc/shadow) to prove
//! nothing was written there.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use forge_payload::testkit::{self, RawEntry};
use forge_payload::{build, index, open_verified, DeployReport, Keyring, PackageEntry, Payload};

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../../tests/harness/skip.rs"]
pub mod skip;

pub struct Scratch {
    pub tmp: tempfile::TempDir,
    pub payload: PathBuf,
    pub target: PathBuf,
    pub outside: PathBuf,
    pub secret: PathBuf,
    pub keyring: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        let tmp = tempfile::tempdir().expect("tempdir");
        let payload = tmp.path().join("payload");
        let target = tmp.path().join("target");
        let outside = tmp.path().join("outside");
        for d in [&payload, &target, &outside] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::create_dir_all(payload.join("packages")).expect("mkdir");
        std::fs::write(outside.join("canary"), b"untouched").expect("canary");
        let (secret, keyring) =
            testkit::generate_key(tmp.path(), "Corpus Test <corpus@example.org>");
        Scratch {
            tmp,
            payload,
            target,
            outside,
            secret,
            keyring,
        }
    }

    pub fn packages(&self) -> PathBuf {
        self.payload.join("packages")
    }

    /// Builds and signs the payload.
    pub fn build(&self) {
        build::build_payload(&self.payload, Some(&self.secret)).expect("build payload");
    }

    pub fn keyring(&self) -> Keyring {
        Keyring::load(&self.keyring).expect("keyring")
    }

    pub fn open(&self) -> Payload {
        open_verified(&self.payload, &self.keyring()).expect("open payload")
    }

    /// A package archive from raw entries, with a correct `.PKGINFO` for
    /// `name` 1.0 core and an installed size of `size`.
    pub fn raw_package(&self, name: &str, size: u64, entries: Vec<RawEntry>) -> PathBuf {
        let mut all = vec![RawEntry::pkginfo(&testkit::info(
            name,
            "1.0",
            "core",
            &[],
            size,
        ))];
        all.extend(entries);
        let p = self.packages().join(format!("{name}-1.0.igos.tar.gz"));
        testkit::write_raw_archive(&p, &all);
        p
    }

    /// Verifies everything and deploys all packages into `target`.
    pub fn deploy_all(&self) -> DeployReport {
        let payload = self.open();
        let pkgs: Vec<PackageEntry> = payload.packages().to_vec();
        let report = payload.verify_archives(&pkgs);
        assert!(
            report.is_clean(),
            "unexpected integrity failure: {:?}",
            report.audit_lines()
        );
        forge_payload::deploy(&payload, &report, &pkgs, &self.target, &|_| {})
    }

    /// Everything under the scratch area except the target (path -> (len, mtime, nlink)),
    /// plus the host's /etc/shadow.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (u64, i64, u64)> {
        let mut out = BTreeMap::new();
        walk(self.tmp.path(), &self.target, &mut out);
        if let Ok(m) = std::fs::symlink_metadata("/etc/shadow") {
            out.insert(
                PathBuf::from("/etc/shadow"),
                (m.len(), m.mtime(), m.nlink()),
            );
        }
        out
    }

    /// Every path under the target (relative), for "nothing remains" checks.
    /// The bytes of `rel` under the deployment root (panics if unreadable).
    pub fn target_bytes(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        std::fs::read(self.target.join(rel)).unwrap()
    }

    pub fn target_files(&self) -> Vec<String> {
        let mut out = BTreeMap::new();
        walk(&self.target, Path::new("/nonexistent"), &mut out);
        out.keys()
            .map(|p| {
                p.strip_prefix(&self.target)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect()
    }

    pub fn manifest(&self) -> PathBuf {
        self.payload.join(index::MANIFEST)
    }
    pub fn manifest_sig(&self) -> PathBuf {
        self.payload.join(index::MANIFEST_SIG)
    }
    pub fn index(&self) -> PathBuf {
        self.payload.join(index::INDEX)
    }
    pub fn index_sig(&self) -> PathBuf {
        self.payload.join(index::INDEX_SIG)
    }
}

fn walk(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, (u64, i64, u64)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p == skip {
            continue;
        }
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            out.insert(p.clone(), (m.len(), m.mtime(), m.nlink()));
            if m.is_dir() {
                walk(&p, skip, out);
            }
        }
    }
}

/// The well-formed `base` package (core, no dependencies, `etc/base.conf`
/// reading "base\n"), added to `s`'s package directory.
pub fn base_package(s: &Scratch) {
    testkit::make_package(
        &s.packages(),
        "base",
        "1.0",
        "core",
        &[],
        &[("etc/base.conf", b"base\n")],
        None,
    );
}

/// A scratch area whose payload is [`two_packages`], built and signed.
pub fn built() -> Scratch {
    let s = Scratch::new();
    two_packages(&s);
    s.build();
    s
}

/// A small well-formed package set: `base` (core) and `app` (base, depends on base).
pub fn two_packages(s: &Scratch) {
    base_package(s);
    testkit::make_package(
        &s.packages(),
        "app",
        "2.0",
        "base",
        &["base"],
        &[("usr/bin/app", b"#!/bin/sh\necho app\n")],
        Some("#!/bin/sh\necho installed\n"),
    );
}
