//! The build: runs the phases in order on a [`Config`], times each, and
//! writes the ISO and its manifest. Any failing phase — including the
//! verity/sha256 assertion and the self-verification of the written image
//! — fails the build and removes a half-written ISO and manifest.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::cli::Config;
use crate::esp::{self, EspInputs};
use crate::initramfs::{self, InitramfsInput};
use crate::isoroot::{self, IsoRootInputs};
use crate::manifest::Manifest;
use crate::uki::{self, Mode, UkiParts};
use crate::{grub, hash, squashfs, tools, verify, verity, xorriso};

/// What a successful build produced.
#[derive(Debug)]
pub struct Built {
    pub output: PathBuf,
    pub manifest: PathBuf,
    /// The dm-verity root hash (sealed in the UKIs unless `dev`).
    pub root_hash: String,
    pub squashfs_sha256: String,
    pub dev: bool,
    pub timings: Vec<(&'static str, Duration)>,
    pub report: verify::Report,
}

impl Built {
    /// Printed by the CLI.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}\nwrote {} and {}\nroot hash {}{}\nsquashfs sha256 {}\n",
            self.report,
            self.output.display(),
            self.manifest.display(),
            self.root_hash,
            if self.dev {
                " (development medium: NOT sealed in the UKIs)"
            } else {
                " (sealed in the UKIs)"
            },
            self.squashfs_sha256
        );
        for (phase, d) in &self.timings {
            s.push_str(&format!("phase {phase:<10} {:>7.2} s\n", d.as_secs_f64()));
        }
        s.trim_end().to_owned()
    }
}

struct Timer(Vec<(&'static str, Duration)>, Instant);

impl Timer {
    fn lap(&mut self, phase: &'static str) {
        self.0.push((phase, self.1.elapsed()));
        self.1 = Instant::now();
    }
}

/// Removes the partial ISO and manifest unless disarmed.
struct OutputGuard<'a>(&'a Config, bool);

impl Drop for OutputGuard<'_> {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_file(&self.0.output);
            let _ = std::fs::remove_file(self.0.manifest_path());
        }
    }
}

/// Runs every phase.
pub fn run(c: &Config) -> Result<Built> {
    let sde = c.source_date_epoch;
    let work = &c.work_dir;
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let mut guard = OutputGuard(c, false);
    let mut t = Timer(Vec::new(), Instant::now());
    let mut m = Manifest::default();

    // A release initramfs does not depend on the squashfs: build it first,
    // so a tree it cannot be built from fails in seconds, not after mksquashfs.
    let early_initrd = match c.initramfs.is_none() && !c.dev_uki {
        true => Some(make_initrd(c, None)?),
        false => None,
    };
    if early_initrd.is_some() {
        t.lap("initramfs");
    }

    // squashfs
    let squashfs = match &c.squashfs {
        Some(p) => {
            squashfs::check_aligned(p)?;
            p.clone()
        }
        None => {
            let out = work.join("filesystem.squashfs");
            squashfs::build(&c.tree, &out, c.compressor, sde).context("phase squashfs")?;
            out
        }
    };
    t.lap("squashfs");
    let sq_sha = hash::file(&squashfs)?;

    // dm-verity + SHA-256, asserted at once and again on the staged tree and the image
    let verity_file = work.join("filesystem.verity");
    let sha_file = work.join("filesystem.sha256");
    let v = verity::format(&squashfs, &sq_sha, &verity_file, sde).context("phase verity")?;
    verity::write_sha256(&sq_sha, &sha_file)?;
    verity::assert_pair(&verity_file, &sha_file)?;
    t.lap("verity");

    // initramfs (the live init; development media carry the squashfs hash in it)
    let initrd = match (&c.initramfs, early_initrd) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p,
        (None, None) => {
            let p = make_initrd(c, Some(&sq_sha))?;
            t.lap("initramfs");
            p
        }
    };

    // UKIs
    let sealed = (!c.dev_uki).then_some(v.root_hash.as_str());
    let uki_dir = work.join("uki");
    std::fs::create_dir_all(&uki_dir)?;
    let mut ukis = Vec::new();
    for mode in Mode::ALL {
        let line = uki::cmdline(sealed, &c.label, mode);
        let out = uki_dir.join(format!("{}.efi", mode.name()));
        let parts = UkiParts {
            stub: &c.efi_stub,
            os_release: &c.os_release,
            cmdline: &line,
            kernel: &c.kernel,
            initrd: &initrd,
        };
        uki::build(&parts, &c.key, &c.cert, &out, &uki_dir, sde)
            .with_context(|| format!("phase uki ({})", mode.name()))?;
        uki::check_sealed(&out, &line, &uki_dir, sde)?;
        m.param(&format!("cmdline.{}", mode.name()), &line);
        ukis.push((mode, out));
    }
    t.lap("uki");

    // ESP
    let iso_uuid = xorriso::iso_uuid(sde);
    let mok_der = work.join("MOK.der");
    tools::run(
        tools::command("openssl", sde)
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&c.cert)
            .arg("-out")
            .arg(&mok_der),
    )?;
    let esp_files = esp::stage(
        &EspInputs {
            shim: &c.shim,
            grub: &c.grub,
            mokmanager: &c.mokmanager,
            mok_der: &mok_der,
            grub_cfg: &grub::esp_cfg(&iso_uuid),
        },
        &work.join("esp"),
        sde,
    )?;
    let esp_img = work.join("esp.img");
    esp::make_image(&esp_files, &esp_img, sde).context("phase esp")?;
    t.lap("esp");

    // ISO9660 root
    let eltorito = work.join("eltorito.img");
    grub::bios_eltorito(&c.grub_bios_dir, &iso_uuid, work, &eltorito, sde).context("phase grub")?;
    let root = work.join("iso");
    isoroot::stage(
        &IsoRootInputs {
            squashfs: &squashfs,
            verity: &verity_file,
            sha256: &sha_file,
            payload: c.payload.as_deref(),
            kernel: &c.kernel,
            initrd: &initrd,
            ukis: &ukis,
            eltorito: &eltorito,
            mok_der: &mok_der,
            efi_cfg: &grub::efi_menu(&iso_uuid, c.menu_timeout),
            bios_cfg: &grub::bios_menu(&iso_uuid, c.menu_timeout, |mode| {
                uki::cmdline(sealed, &c.label, mode)
            }),
            disk_info: &format!("InterGenOS live {} ({})\n", c.kernel_release, iso_uuid),
        },
        &root,
    )
    .context("phase isoroot")?;
    t.lap("isoroot");

    // xorriso, then the self-verification of what it wrote
    if let Some(dir) = c.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    xorriso::write(&root, &esp_img, &c.grub_bios_dir, &c.label, &c.output, sde)
        .context("phase xorriso")?;
    t.lap("xorriso");
    let report = verify::verify_image(&c.output)?;
    anyhow::ensure!(
        report.volume_id == c.label,
        "the image's volume id is {:?}, not {:?}",
        report.volume_id,
        c.label
    );
    t.lap("verify");

    // manifest
    m.param("profile", if c.dev_uki { "development" } else { "release" });
    m.param("source_date_epoch", sde);
    m.param("label", &c.label);
    m.param("iso_uuid", &iso_uuid);
    m.param("kernel_release", &c.kernel_release);
    m.param(
        "compressor",
        if c.squashfs.is_some() {
            "given"
        } else {
            c.compressor.name()
        },
    );
    m.param("verity_root_hash", &v.root_hash);
    m.param("verity_salt", &v.salt);
    m.param("verity_uuid", &v.uuid);
    m.param("squashfs_sha256", &sq_sha);
    m.param("sealed_root_hash", sealed.unwrap_or("none"));
    record_inputs(c, &mut m)?;
    m.output("iso", &hash::file(&c.output)?, None);
    for f in &report.files {
        let role = f.path.trim_start_matches("/live/");
        let file = match role {
            "filesystem.squashfs" => squashfs.as_path(),
            "filesystem.verity" => verity_file.as_path(),
            _ => sha_file.as_path(),
        };
        m.output(role, &hash::file(file)?, Some((f.offset, f.size)));
    }
    m.output("initrd.img", &hash::file(&initrd)?, None);
    for (mode, p) in &ukis {
        m.output(&format!("uki.{}", mode.name()), &hash::file(p)?, None);
    }
    m.output("esp.img", &hash::file(&esp_img)?, None);
    m.output("eltorito.img", &hash::file(&eltorito)?, None);
    m.tools(tools::versions()?);
    let manifest = c.manifest_path();
    m.write(&manifest)?;
    t.lap("manifest");

    if !c.keep_work {
        std::fs::remove_dir_all(work).with_context(|| format!("removing {}", work.display()))?;
    }
    guard.1 = true;
    Ok(Built {
        output: c.output.clone(),
        manifest,
        root_hash: v.root_hash,
        squashfs_sha256: sq_sha,
        dev: c.dev_uki,
        timings: t.0,
        report,
    })
}

/// Runs the live init's initramfs builder into `WORK/initrd.img`.
fn make_initrd(c: &Config, squashfs_sha256: Option<&str>) -> Result<PathBuf> {
    let bytes = initramfs::build(&InitramfsInput {
        tree: &c.tree,
        kernel_release: &c.kernel_release,
        squashfs_sha256,
        source_date_epoch: c.source_date_epoch,
    })
    .context("phase initramfs")?;
    let p = c.work_dir.join("initrd.img");
    std::fs::write(&p, bytes)?;
    Ok(p)
}

fn record_inputs(c: &Config, m: &mut Manifest) -> Result<()> {
    let file = |m: &mut Manifest, role: &str, p: &Path| -> Result<()> {
        m.input(role, &hash::file(p)?, p);
        Ok(())
    };
    m.input("tree", &hash::tree(&c.tree)?, &c.tree);
    file(m, "kernel", &c.kernel)?;
    file(m, "os-release", &c.os_release)?;
    file(m, "cert", &c.cert)?;
    file(m, "shim", &c.shim)?;
    file(m, "grub", &c.grub)?;
    file(m, "mokmanager", &c.mokmanager)?;
    file(m, "efi-stub", &c.efi_stub)?;
    m.input(
        "grub-bios-dir",
        &hash::tree(&c.grub_bios_dir)?,
        &c.grub_bios_dir,
    );
    if let Some(p) = &c.payload {
        m.input("payload", &hash::tree(p)?, p);
    }
    if let Some(p) = &c.squashfs {
        file(m, "squashfs", p)?;
    }
    if let Some(p) = &c.initramfs {
        file(m, "initramfs", p)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
