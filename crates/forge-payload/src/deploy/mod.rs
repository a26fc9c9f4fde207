//! Deployment: extract and register verified packages into a root, in
//! parallel, one package's failure not stopping the others. Every file
//! operation goes through [`crate::confined::at`] (no symlink followed).
//!
//! Order: [`scan`] opens, hashes and lists every archive (extension records
//! capped by [`guard`]); [`conflicts`] finds paths two packages ship;
//! [`extract`] and [`register`] write each remaining package from its
//! verified descriptor; [`finish`] removes what failed packages left and
//! sets the shared directories' metadata.
//!
//! [`deploy_until`] stops early when its cancel flag is raised: it is
//! checked before each archive is scanned or extracted and between the
//! entries of an archive; a package stopped that way is rolled back like
//! any failed one (error [`cancelled`]).

mod conflicts;
mod extract;
mod finish;
mod guard;
mod register;
mod scan;
mod tree;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::confined::at;
use crate::index::PackageEntry;
use crate::{IntegrityReport, Payload, PayloadError};
use scan::Scanned;

pub use register::PKM_DB_DIR;

/// Progress of a deployment, reported per package (from worker threads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployEvent {
    /// Extraction of `name` began.
    Started { name: String },
    /// `name` is extracted and registered; `done` of `total` packages are finished (ok or failed).
    Finished {
        name: String,
        done: usize,
        total: usize,
    },
    /// `name` failed and was rolled back; `error` is the full detail for the log.
    Failed { name: String, error: String },
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackage {
    pub name: String,
    pub version: String,
    /// Number of paths registered (files, directories, links).
    pub files: usize,
    /// The saved `.INSTALL`, as a path inside the root
    /// (`/var/lib/pkm/local/<name>/install`), to run in the chroot.
    pub install_script: Option<PathBuf>,
    /// systemd units the package asks to enable.
    pub services: Vec<String>,
}

/// The outcome of [`deploy`]: installed packages in the order they were
/// given, and the failed ones with their error (`error.to_string()` is the
/// detail; the error names the archive and entry).
#[derive(Debug, Default)]
pub struct DeployReport {
    pub installed: Vec<InstalledPackage>,
    pub failed: Vec<(String, PayloadError)>,
}

impl DeployReport {
    /// True when every package was installed.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The error of a package the deploy did not finish because it was cancelled.
pub fn cancelled(archive: &Path) -> PayloadError {
    PayloadError::io(
        archive,
        std::io::Error::new(std::io::ErrorKind::Interrupted, "deploy cancelled"),
    )
}

/// One package's result and the directories it created (removed if it failed).
type PackageOutcome = (Result<InstalledPackage, PayloadError>, Vec<tree::Created>);

/// A package whose archive is open, verified and listed.
struct Ready {
    archive: PathBuf,
    expected: String,
    scanned: Scanned,
}

/// Checks `pkg` is a verified entry and opens, hashes and lists its archive.
fn prepare(
    payload: &Payload,
    report: &IntegrityReport,
    pkg: &PackageEntry,
) -> Result<Ready, PayloadError> {
    let archive = payload.dir().join(&pkg.file);
    let not_verified = |reason: &str| PayloadError::NotVerified {
        path: archive.clone(),
        reason: reason.into(),
    };
    if !payload.packages().iter().any(|p| p == pkg) {
        return Err(not_verified("not an entry of the verified index"));
    }
    let expected = report
        .observed_sha256(&pkg.file)
        .ok_or_else(|| not_verified("no integrity result for this archive"))?
        .to_string();
    let scanned = scan::scan(&archive, &expected, pkg.installed_size)?;
    Ok(Ready {
        archive,
        expected,
        scanned,
    })
}

fn deploy_one(
    ready: &Ready,
    pkg: &PackageEntry,
    root: &OwnedFd,
    root_path: &Path,
    created_dirs: &mut Vec<tree::Created>,
    cancel: &AtomicBool,
) -> Result<InstalledPackage, PayloadError> {
    let root_fd = root
        .try_clone()
        .map_err(|e| PayloadError::io(root_path, e))?;
    let mut tree = tree::Tree::new(root_fd);
    let result =
        extract::extract(&ready.scanned, &ready.archive, pkg, &mut tree, cancel).and_then(|ex| {
            let script = register::register(&mut tree, pkg, &ready.expected, &ex)?;
            Ok(InstalledPackage {
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                files: ex.records.len(),
                install_script: script,
                services: pkg.services.clone(),
            })
        });
    if result.is_err() {
        created_dirs.append(&mut tree.created_dirs);
    }
    result
}

/// Extracts and registers `packages` into `root`, in parallel.
///
/// The expected hash of each archive is the one observed in `report` (so
/// after an authorized override, the bytes that were seen are the bytes that
/// land). Each archive is opened once, hashed and listed before anything is
/// extracted; extraction reads the same descriptor again, so a file swapped
/// over the path afterwards is never read. Two packages shipping the same
/// non-directory path both fail with [`PayloadError::FileConflict`] before
/// either is extracted; shared directories get the metadata of the first
/// installed package (in `packages` order) listing them. Every path is
/// confined to `root`. One package's failure does not stop the others; it
/// is reported in [`DeployReport::failed`] and by a [`DeployEvent::Failed`];
/// its rollback removes only the files and directories it created (same
/// device and inode), never what stands at the path now.
pub fn deploy(
    payload: &Payload,
    report: &IntegrityReport,
    packages: &[PackageEntry],
    root: &Path,
    on_event: &(dyn Fn(DeployEvent) + Sync),
) -> DeployReport {
    deploy_until(
        payload,
        report,
        packages,
        root,
        on_event,
        &AtomicBool::new(false),
    )
}

/// As [`deploy`], stopping early once `cancel` is raised: packages not yet
/// started fail with [`cancelled`], the ones being extracted stop at their
/// next entry and are rolled back as any failed package.
pub fn deploy_until(
    payload: &Payload,
    report: &IntegrityReport,
    packages: &[PackageEntry],
    root: &Path,
    on_event: &(dyn Fn(DeployEvent) + Sync),
    cancel: &AtomicBool,
) -> DeployReport {
    let stopped = || cancel.load(Ordering::SeqCst);
    let root_fd = match at::open_root(root) {
        Ok(fd) => fd,
        Err(e) => {
            let mut out = DeployReport::default();
            for p in packages {
                let error = PayloadError::io(root, std::io::Error::new(e.kind(), e.to_string()));
                on_event(DeployEvent::Failed {
                    name: p.name.clone(),
                    error: error.to_string(),
                });
                out.failed.push((p.name.clone(), error));
            }
            return out;
        }
    };
    let total = packages.len();
    let done = AtomicUsize::new(0);
    // First every archive is opened once, hashed and listed; only then is
    // anything extracted, from the descriptors opened here.
    let mut prepared: Vec<Result<Ready, PayloadError>> = packages
        .par_iter()
        .with_max_len(1)
        .map(|pkg| {
            if stopped() {
                return Err(cancelled(&payload.dir().join(&pkg.file)));
            }
            prepare(payload, report, pkg)
        })
        .collect();
    let listings: Vec<Option<(&Path, &[scan::Listed])>> = prepared
        .iter()
        .map(|r| {
            r.as_ref()
                .ok()
                .map(|r| (r.archive.as_path(), r.scanned.entries.as_slice()))
        })
        .collect();
    let found = conflicts::find(packages, &listings);
    for (slot, conflict) in prepared.iter_mut().zip(found) {
        if let Some(e) = conflict {
            *slot = Err(e);
        }
    }
    let (readies, errors): (Vec<Option<Ready>>, Vec<Option<PayloadError>>) = prepared
        .into_iter()
        .map(|r| match r {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        })
        .unzip();
    let results: Vec<PackageOutcome> = packages
        .par_iter()
        .zip(readies.par_iter())
        .zip(errors)
        .with_max_len(1)
        .map(|((pkg, ready), error)| {
            let mut dirs = Vec::new();
            let r = match (ready, error) {
                (Some(ready), _) if stopped() => Err(cancelled(&ready.archive)),
                (Some(ready), _) => {
                    on_event(DeployEvent::Started {
                        name: pkg.name.clone(),
                    });
                    deploy_one(ready, pkg, &root_fd, root, &mut dirs, cancel)
                }
                (None, Some(e)) => Err(e),
                (None, None) => Err(PayloadError::NotVerified {
                    path: payload.dir().join(&pkg.file),
                    reason: "not prepared".into(),
                }),
            };
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            match &r {
                Ok(_) => {
                    tracing::info!(package = %pkg.name, "deployed");
                    on_event(DeployEvent::Finished {
                        name: pkg.name.clone(),
                        done: n,
                        total,
                    })
                }
                Err(e) => {
                    tracing::warn!(package = %pkg.name, error = %e, "deploy failed");
                    on_event(DeployEvent::Failed {
                        name: pkg.name.clone(),
                        error: e.to_string(),
                    })
                }
            }
            (r, dirs)
        })
        .collect();
    let mut out = DeployReport::default();
    let mut dirs = Vec::new();
    let mut installed: Vec<&[scan::Listed]> = Vec::new();
    for ((pkg, (r, mut d)), ready) in packages.iter().zip(results).zip(&readies) {
        match r {
            Ok(i) => {
                out.installed.push(i);
                if let Some(ready) = ready {
                    installed.push(&ready.scanned.entries);
                }
            }
            Err(e) => out.failed.push((pkg.name.clone(), e)),
        }
        dirs.append(&mut d);
    }
    let (meta, needed) = conflicts::shared_dirs(&installed);
    finish::remove_dirs(&root_fd, dirs, &needed);
    finish::apply_dir_meta(&root_fd, meta);
    out
}
