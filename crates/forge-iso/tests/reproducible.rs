//! forge-iso end to end on a small tree (the test payload's kernel with the
//! few modules the live init loads, busybox-static, base-layout, the host's
//! veritysetup): two builds from the same inputs and SOURCE_DATE_EPOCH —
//! one driven by flags, one by the seed's environment variables — are
//! byte-identical ISOs with identical manifests; a third with another
//! SOURCE_DATE_EPOCH (reusing the squashfs through `SQUASHFS`) differs, and
//! a development medium (`--dev-uki`) seals no root hash.
//! `forge-iso verify` accepts the image and refuses copies with a damaged
//! El Torito catalog or GPT. The whole live tree and the boots are the live
//! tests' (tests/tests/live_*.rs).

#[path = "../../../tests/harness/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_forge-iso");

/// Module directories the small tree keeps (what the live init's initramfs takes).
const MODULE_DIRS: &[&str] = &[
    "kernel/drivers/virtio",
    "kernel/drivers/block",
    "kernel/drivers/scsi",
    "kernel/drivers/cdrom",
    "kernel/drivers/md",
    "kernel/drivers/ata",
    "kernel/fs/isofs",
    "kernel/fs/squashfs",
    "kernel/fs/overlayfs",
    "kernel/fs/nls",
    "kernel/lib",
    "kernel/crypto",
    "kernel/arch/x86/crypto",
];

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "deps"))
        .unwrap();
    deps.parent().and_then(Path::parent).unwrap().to_path_buf()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn sh(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The test payload's packages (built by scripts/build-test-payload.sh, cached).
fn payload_packages() -> Result<PathBuf, String> {
    let dir = target_dir().join("forge-test-payload");
    if !dir.join("boot-payload.env").is_file() {
        sh(Command::new("bash")
            .arg(workspace_root().join("scripts/build-test-payload.sh"))
            .arg(&dir))?;
    }
    Ok(dir.join("packages"))
}

fn small_tree(root: &Path) -> Result<(), String> {
    let pkgs = payload_packages()?;
    std::fs::create_dir_all(root).unwrap();
    let mut archives: Vec<PathBuf> = std::fs::read_dir(&pkgs)
        .map_err(|e| format!("{}: {e}", pkgs.display()))?
        .map(|e| e.unwrap().path())
        .collect();
    archives.sort();
    let find = |prefix: &str| {
        archives
            .iter()
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .cloned()
            .ok_or(format!("no {prefix}* in {}", pkgs.display()))
    };
    for prefix in ["base-layout-", "busybox-static-"] {
        sh(Command::new("tar")
            .arg("--force-local")
            .arg("-xzf")
            .arg(find(prefix)?)
            .arg("-C")
            .arg(root))?;
    }
    let mut tar = Command::new("tar");
    tar.arg("--force-local")
        .arg("-xzf")
        .arg(find("linux-image-")?)
        .arg("-C")
        .arg(root);
    tar.args(["--wildcards", "boot/vmlinuz-*", "lib/modules/*/modules.*"]);
    for d in MODULE_DIRS {
        tar.arg(format!("lib/modules/*/{d}/*"));
    }
    sh(&mut tar)?;
    for f in [".PKGINFO", ".INSTALL"] {
        let _ = std::fs::remove_file(root.join(f));
    }
    // modules.dep of the subset (as depmod on these modules would write it).
    let mods = std::fs::read_dir(root.join("lib/modules"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let dep = std::fs::read_to_string(mods.join("modules.dep")).unwrap();
    let kept: String = dep
        .lines()
        .filter(|l| {
            l.split([':', ' '])
                .filter(|m| !m.is_empty())
                .all(|m| mods.join(m).is_file())
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(mods.join("modules.dep"), kept).unwrap();
    // veritysetup and its libraries, from the host.
    let ldd = sh(Command::new("ldd").arg("/usr/sbin/veritysetup"))?;
    let libs = ldd
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(str::to_owned);
    for f in std::iter::once("/usr/sbin/veritysetup".to_owned()).chain(libs) {
        let dst = root.join(f.trim_start_matches('/'));
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dst).map_err(|e| format!("{f}: {e}"))?;
    }
    Ok(())
}

fn keys(dir: &Path) -> (PathBuf, PathBuf) {
    let (key, cert) = (dir.join("db.key"), dir.join("db.pem"));
    sh(Command::new("openssl")
        .args([
            "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
        ])
        .args(["-subj", "/CN=forge-iso test/", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert))
    .unwrap();
    (key, cert)
}

fn missing_tool() -> Option<String> {
    [
        "mksquashfs",
        "veritysetup",
        "xorriso",
        "objcopy",
        "sbsign",
        "mkfs.vfat",
        "mcopy",
        "grub-mkimage",
        "openssl",
        "faketime",
    ]
    .into_iter()
    .find(|t| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .map_or(true, |o| !o.status.success())
    })
    .map(|t| format!("{t} is not installed (scripts/setup-debian.sh)"))
    .or_else(|| {
        [
            "/usr/lib/shim/shimx64.efi.signed",
            "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed",
            "/usr/lib/systemd/boot/efi/linuxx64.efi.stub",
        ]
        .into_iter()
        .find(|p| !Path::new(p).is_file())
        .map(|p| format!("{p} is missing (scripts/setup-debian.sh)"))
    })
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("run forge-iso");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn flip(src: &Path, dst: &Path, at: u64) {
    let mut bytes = std::fs::read(src).unwrap();
    bytes[at as usize] ^= 0x01;
    std::fs::write(dst, bytes).unwrap();
}

#[test]
fn same_inputs_give_identical_isos_and_another_date_a_different_one() {
    if let Some(why) = missing_tool() {
        return skip::skip(why);
    }
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    if let Err(why) = small_tree(&tree) {
        return skip::skip(format!(
            "cannot make the small tree from the test payload: {why}"
        ));
    }
    let (key, cert) = keys(tmp.path());
    let base = |cmd: &mut Command| {
        cmd.arg("build")
            .arg("--tree")
            .arg(&tree)
            .arg("--key")
            .arg(&key)
            .arg("--cert")
            .arg(&cert);
        for v in [
            "SHIM",
            "GRUB",
            "SQUASHFS",
            "OUTPUT",
            "SOURCE_DATE_EPOCH",
            "MOKMANAGER",
        ] {
            cmd.env_remove(v);
        }
    };
    let (a, b, c) = (
        tmp.path().join("a/live.iso"),
        tmp.path().join("b/other-name.iso"),
        tmp.path().join("c/live.iso"),
    );

    // 1: flags.
    let mut cmd = Command::new(BIN);
    base(&mut cmd);
    cmd.arg("--output")
        .arg(&a)
        .args(["--source-date-epoch", "1700000000", "--keep-work"]);
    assert!(run(&mut cmd).status.success(), "build 1 failed");
    // 2: the seed's environment variables.
    let mut cmd = Command::new(BIN);
    base(&mut cmd);
    cmd.env("OUTPUT", &b)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("SHIM", "/usr/lib/shim/shimx64.efi.signed")
        .env("GRUB", "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed");
    assert!(run(&mut cmd).status.success(), "build 2 failed");
    let (ia, ib) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(ia == ib, "two builds of the same inputs differ");
    let ma = std::fs::read_to_string(forge_iso::cli::with_suffix(&a, ".manifest")).unwrap();
    let mb = std::fs::read_to_string(forge_iso::cli::with_suffix(&b, ".manifest")).unwrap();
    assert_eq!(ma, mb, "the manifests differ");
    assert!(
        ma.contains("param profile release\n") && ma.contains("tool xorriso "),
        "{ma}"
    );
    let root_hash = forge_iso::manifest::read_param(&ma, "verity_root_hash").unwrap();
    assert_eq!(
        forge_iso::manifest::read_param(&ma, "sealed_root_hash").as_deref(),
        Some(root_hash.as_str())
    );

    // 3: another date, the squashfs of build 1 given through SQUASHFS.
    let squashfs = forge_iso::cli::with_suffix(&a, ".work").join("filesystem.squashfs");
    let mut cmd = Command::new(BIN);
    base(&mut cmd);
    cmd.arg("--output")
        .arg(&c)
        .env("SQUASHFS", &squashfs)
        .env("SOURCE_DATE_EPOCH", "1700000001");
    assert!(run(&mut cmd).status.success(), "build 3 failed");
    assert!(
        std::fs::read(&c).unwrap() != ia,
        "another SOURCE_DATE_EPOCH gave the same ISO"
    );
    let mc = std::fs::read_to_string(forge_iso::cli::with_suffix(&c, ".manifest")).unwrap();
    assert_eq!(
        forge_iso::manifest::read_param(&mc, "verity_root_hash"),
        Some(root_hash),
        "same squashfs, same root hash"
    );

    // 4: a development medium from the same squashfs: nothing sealed.
    let d = tmp.path().join("d/dev.iso");
    let mut cmd = Command::new(BIN);
    base(&mut cmd);
    cmd.arg("--output")
        .arg(&d)
        .arg("--dev-uki")
        .env("SQUASHFS", &squashfs)
        .env("SOURCE_DATE_EPOCH", "1700000000");
    assert!(
        run(&mut cmd).status.success(),
        "the development build failed"
    );
    let md = std::fs::read_to_string(forge_iso::cli::with_suffix(&d, ".manifest")).unwrap();
    assert!(
        md.contains("param profile development\n") && md.contains("param sealed_root_hash none\n"),
        "{md}"
    );
    assert!(!md.contains("igos.verity.roothash="), "{md}");
    assert!(std::fs::read(&d).unwrap() != ia);

    // forge-iso verify: the image passes, damaged copies do not.
    assert!(run(Command::new(BIN).arg("verify").arg(&a))
        .status
        .success());
    let catalog = u32::from_le_bytes(ia[17 * 2048 + 0x47..17 * 2048 + 0x4b].try_into().unwrap());
    let bad = tmp.path().join("bad.iso");
    flip(&a, &bad, u64::from(catalog) * 2048 + 4);
    let out = run(Command::new(BIN).arg("verify").arg(&bad));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("checksum"));
    flip(&a, &bad, 512 + 40);
    let out = run(Command::new(BIN).arg("verify").arg(&bad));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("CRC32"));
}
