//! The command line (clap) and its resolution into a [`Config`]: defaults
//! for Debian 12's shim/GRUB/stub paths, the seed's environment variables
//! (`SHIM`, `GRUB`, `SQUASHFS`, `OUTPUT`, `SOURCE_DATE_EPOCH`; a flag wins
//! over its variable), the kernel release found in the tree.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::squashfs::Compressor;

/// forge-iso: builds FORGE's live medium (docs/live-medium.md).
#[derive(Parser, Debug)]
#[command(name = "forge-iso", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build the hybrid UEFI+BIOS ISO and its manifest.
    Build(Box<BuildArgs>),
    /// Parse an image's protective MBR, GPT and El Torito catalog and check them.
    Verify {
        /// The ISO image.
        image: PathBuf,
    },
}

/// `forge-iso build` flags (a flag wins over its environment variable).
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The live root tree (kernel in boot/vmlinuz-REL, modules in lib/modules/REL).
    #[arg(long)]
    pub tree: PathBuf,
    /// Kernel release (default: the newest boot/vmlinuz-* in the tree).
    #[arg(long)]
    pub kernel_release: Option<String>,
    /// The signed FORGE payload directory, copied to /payload/ on the ISO.
    #[arg(long)]
    pub payload: Option<PathBuf>,
    /// Secure Boot signing key (PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// Secure Boot signing certificate (PEM).
    #[arg(long)]
    pub cert: PathBuf,
    /// shim (Microsoft-signed), becomes EFI/BOOT/BOOTX64.EFI.
    #[arg(long, env = "SHIM", default_value = "/usr/lib/shim/shimx64.efi.signed")]
    pub shim: PathBuf,
    /// Debian's signed GRUB (CD flavour), becomes EFI/BOOT/grubx64.efi.
    #[arg(
        long,
        env = "GRUB",
        default_value = "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed"
    )]
    pub grub: PathBuf,
    /// MokManager, becomes EFI/BOOT/mmx64.efi.
    #[arg(
        long,
        env = "MOKMANAGER",
        default_value = "/usr/lib/shim/mmx64.efi.signed"
    )]
    pub mokmanager: PathBuf,
    /// GRUB's BIOS modules (i386-pc).
    #[arg(long, default_value = "/usr/lib/grub/i386-pc")]
    pub grub_bios_dir: PathBuf,
    /// The UKI stub (systemd-boot-efi).
    #[arg(long, default_value = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub")]
    pub efi_stub: PathBuf,
    /// A prebuilt root squashfs instead of one built from --tree.
    #[arg(long, env = "SQUASHFS")]
    pub squashfs: Option<PathBuf>,
    /// A prebuilt initramfs instead of the live init's (not with --dev-uki).
    #[arg(long)]
    pub initramfs: Option<PathBuf>,
    /// The ISO to write; the manifest goes to OUTPUT.manifest.
    #[arg(long, env = "OUTPUT")]
    pub output: PathBuf,
    /// Every timestamp on the medium (default: now, with a warning).
    #[arg(long, env = "SOURCE_DATE_EPOCH")]
    pub source_date_epoch: Option<u64>,
    /// ISO9660 volume id; the live init finds the medium by it.
    #[arg(long, default_value = "IGOS_LIVE")]
    pub label: String,
    /// squashfs compressor (zstd: measured, docs/benchmarks.md).
    #[arg(long, value_enum, default_value_t = CompressorArg::Zstd)]
    pub compressor: CompressorArg,
    /// Development medium: no root hash sealed, initramfs carries the squashfs SHA-256.
    #[arg(long)]
    pub dev_uki: bool,
    /// Seconds the GRUB menus wait before the first entry.
    #[arg(long, default_value_t = 5)]
    pub menu_timeout: u32,
    /// Staging directory (default OUTPUT.work).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the staging directory after a successful build.
    #[arg(long)]
    pub keep_work: bool,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum CompressorArg {
    Zstd,
    Xz,
}

/// Everything a build needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub tree: PathBuf,
    pub kernel_release: String,
    pub kernel: PathBuf,
    pub os_release: PathBuf,
    pub payload: Option<PathBuf>,
    pub key: PathBuf,
    pub cert: PathBuf,
    pub shim: PathBuf,
    pub grub: PathBuf,
    pub mokmanager: PathBuf,
    pub grub_bios_dir: PathBuf,
    pub efi_stub: PathBuf,
    pub squashfs: Option<PathBuf>,
    pub initramfs: Option<PathBuf>,
    pub output: PathBuf,
    pub source_date_epoch: u64,
    pub label: String,
    pub compressor: Compressor,
    pub dev_uki: bool,
    pub menu_timeout: u32,
    pub work_dir: PathBuf,
    pub keep_work: bool,
}

impl BuildArgs {
    /// Resolves defaults that depend on the tree and checks every input exists.
    pub fn into_config(self) -> Result<Config> {
        let kernel_release = match self.kernel_release {
            Some(r) => r,
            None => newest_kernel(&self.tree)?,
        };
        let kernel = self
            .tree
            .join("boot")
            .join(format!("vmlinuz-{kernel_release}"));
        let os_release = ["etc/os-release", "usr/lib/os-release"]
            .iter()
            .map(|p| self.tree.join(p))
            .find(|p| p.is_file())
            .with_context(|| {
                format!(
                    "{} has no etc/os-release or usr/lib/os-release",
                    self.tree.display()
                )
            })?;
        let source_date_epoch = match self.source_date_epoch {
            Some(s) => s,
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                eprintln!(
                    "forge-iso: warning: SOURCE_DATE_EPOCH is not set; using the current time ({now}): the ISO is not reproducible"
                );
                now
            }
        };
        check_label(&self.label)?;
        if self.dev_uki && self.initramfs.is_some() {
            bail!("--dev-uki builds its own initramfs (it carries the squashfs SHA-256); drop --initramfs");
        }
        let work_dir = self
            .work_dir
            .unwrap_or_else(|| with_suffix(&self.output, ".work"));
        let config = Config {
            tree: self.tree,
            kernel_release,
            kernel,
            os_release,
            payload: self.payload,
            key: self.key,
            cert: self.cert,
            shim: self.shim,
            grub: self.grub,
            mokmanager: self.mokmanager,
            grub_bios_dir: self.grub_bios_dir,
            efi_stub: self.efi_stub,
            squashfs: self.squashfs,
            initramfs: self.initramfs,
            output: self.output,
            source_date_epoch,
            label: self.label,
            compressor: match self.compressor {
                CompressorArg::Xz => Compressor::Xz,
                CompressorArg::Zstd => Compressor::Zstd,
            },
            dev_uki: self.dev_uki,
            menu_timeout: self.menu_timeout,
            work_dir,
            keep_work: self.keep_work,
        };
        config.check_inputs()?;
        Ok(config)
    }
}

impl Config {
    /// Every input file/directory exists (a missing one fails before any work).
    pub fn check_inputs(&self) -> Result<()> {
        let files = [
            (&self.kernel, "kernel"),
            (&self.key, "--key"),
            (&self.cert, "--cert"),
            (&self.shim, "--shim / SHIM"),
            (&self.grub, "--grub / GRUB"),
            (&self.mokmanager, "--mokmanager / MOKMANAGER"),
            (&self.efi_stub, "--efi-stub"),
        ];
        for (path, what) in files {
            if !path.is_file() {
                bail!("{what}: no file at {}", path.display());
            }
        }
        for (path, what) in [
            (&self.squashfs, "--squashfs / SQUASHFS"),
            (&self.initramfs, "--initramfs"),
        ] {
            if let Some(p) = path {
                if !p.is_file() {
                    bail!("{what}: no file at {}", p.display());
                }
            }
        }
        if let Some(p) = &self.payload {
            if !p.is_dir() {
                bail!("--payload: no directory at {}", p.display());
            }
        }
        for img in ["boot_hybrid.img", "kernel.img", "cdboot.img"] {
            if !self.grub_bios_dir.join(img).is_file() {
                bail!(
                    "--grub-bios-dir {} has no {img}",
                    self.grub_bios_dir.display()
                );
            }
        }
        let modules = self.tree.join("lib/modules").join(&self.kernel_release);
        let usr_modules = self.tree.join("usr/lib/modules").join(&self.kernel_release);
        if !modules.is_dir() && !usr_modules.is_dir() {
            bail!(
                "the tree has no modules for {} ({})",
                self.kernel_release,
                modules.display()
            );
        }
        Ok(())
    }

    /// `OUTPUT.manifest`.
    pub fn manifest_path(&self) -> PathBuf {
        with_suffix(&self.output, ".manifest")
    }
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// ISO9660 volume ids: d-characters (A-Z, 0-9, _), at most 32.
fn check_label(label: &str) -> Result<()> {
    if label.is_empty()
        || label.len() > 32
        || !label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        bail!("--label {label:?}: 1 to 32 characters of A-Z, 0-9 and _ (an ISO9660 volume id)");
    }
    Ok(())
}

/// The newest `boot/vmlinuz-*` in `tree`, by version order.
pub fn newest_kernel(tree: &Path) -> Result<String> {
    let boot = tree.join("boot");
    let mut releases: Vec<String> = std::fs::read_dir(&boot)
        .with_context(|| format!("reading {}", boot.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("vmlinuz-")
                .map(str::to_owned)
        })
        .collect();
    releases.sort_by(|a, b| version_cmp(a, b));
    releases
        .pop()
        .with_context(|| format!("no vmlinuz-* in {}", boot.display()))
}

/// `sort -V`-like: runs of digits compare numerically.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => x
                .trim_start_matches('0')
                .len()
                .cmp(&y.trim_start_matches('0').len())
                .then_with(|| x.trim_start_matches('0').cmp(y.trim_start_matches('0'))),
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec![
            "6.1.0-9-amd64",
            "6.1.0-28-cloud-amd64",
            "6.10.0-1-amd64",
            "5.19.0-1",
        ];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(
            v,
            [
                "5.19.0-1",
                "6.1.0-9-amd64",
                "6.1.0-28-cloud-amd64",
                "6.10.0-1-amd64"
            ]
        );
    }

    #[test]
    fn labels_are_iso_volume_ids() {
        assert!(check_label("IGOS_LIVE").is_ok());
        assert!(check_label("igos").is_err());
        assert!(check_label("A B").is_err());
        assert!(check_label(&"A".repeat(33)).is_err());
    }
}
