//! The build-time assertion through the whole pipeline: a build whose
//! `veritysetup format` leaves `filesystem.verity` empty, or that never
//! writes `filesystem.sha256`, fails (fault points of `crate::fault`) and
//! leaves no ISO or manifest behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run;
use crate::cli::Config;
use crate::fault::{self, Fault};
use crate::squashfs::Compressor;

#[path = "../../../tests/harness/skip.rs"]
mod skip;

fn config(dir: &Path) -> Option<Config> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("hello"), "hello\n").unwrap();
    let squashfs = dir.join("root.squashfs");
    let made = Command::new("mksquashfs")
        .arg(&src)
        .arg(&squashfs)
        .args(["-noappend", "-quiet", "-no-progress"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        skip::skip("mksquashfs is not installed (scripts/setup-debian.sh)");
        return None;
    }
    let f = |n: &str| -> PathBuf {
        let p = dir.join(n);
        std::fs::write(&p, n).unwrap();
        p
    };
    Some(Config {
        tree: src.clone(),
        kernel_release: "0".into(),
        kernel: f("vmlinuz"),
        os_release: f("os-release"),
        payload: None,
        key: f("key"),
        cert: f("cert"),
        shim: f("shim"),
        grub: f("grub"),
        mokmanager: f("mm"),
        grub_bios_dir: dir.to_path_buf(),
        efi_stub: f("stub"),
        squashfs: Some(squashfs),
        initramfs: Some(f("initrd")),
        output: dir.join("out/live.iso"),
        source_date_epoch: 1_700_000_000,
        label: "IGOS_LIVE".into(),
        compressor: Compressor::Xz,
        dev_uki: false,
        menu_timeout: 0,
        work_dir: dir.join("work"),
        keep_work: false,
    })
}

fn failing_build(fault: Fault) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path())?;
    if Command::new("veritysetup")
        .arg("--version")
        .output()
        .is_err()
    {
        skip::skip("veritysetup is not installed (scripts/setup-debian.sh)");
        return None;
    }
    let _forced = fault::force(fault);
    let err = format!("{:#}", run(&c).expect_err("the build must fail"));
    assert!(
        !c.output.exists() && !c.manifest_path().exists(),
        "a failed build left output"
    );
    Some(err)
}

#[test]
fn a_build_whose_verity_output_is_empty_fails() {
    if let Some(err) = failing_build(Fault::EmptyVerity) {
        assert!(
            err.contains("dm-verity hash tree") && err.contains("is empty"),
            "{err}"
        );
    }
}

#[test]
fn a_build_without_the_sha256_file_fails() {
    if let Some(err) = failing_build(Fault::MissingSha256) {
        assert!(
            err.contains("SHA-256 fallback") && err.contains("missing"),
            "{err}"
        );
    }
}
