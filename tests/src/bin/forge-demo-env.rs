//! `forge-demo-env`: the environment of `scripts/demo.sh`. Brings up the
//! test harness's pieces for real (a private system bus, polkitd with the
//! test rules, `forge-daemon` with the boot test payload signed by a key
//! made on the spot and image targets allowed), creates a 2 GiB disk-image
//! file, and opens `forge-gui` on the current display as an unprivileged
//! demo user in the allowed group. With `--autopilot DIR` the wizard drives
//! itself (`forge-gui-autopilot`, the build with forge-gui's `autopilot`
//! feature; a screenshot per screen into DIR). When the GUI closes, the
//! image is copied to `--out DIR` and the QEMU command to boot it printed.
//! Everything else is torn down on exit.
//!
//!     forge-demo-env --out target/forge-demo [--autopilot target/forge-demo/screens]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context, Result};
use forge_tests::daemon::{built_binary, DaemonOptions};
use forge_tests::env::{skip_reason, ForgeEnv};
use forge_tests::users;

struct Args {
    out: PathBuf,
    autopilot: Option<PathBuf>,
}

fn args() -> Result<Args> {
    let mut out = PathBuf::from("target/forge-demo");
    let mut autopilot = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().context("--out needs a directory")?.into(),
            "--autopilot" => {
                autopilot = Some(it.next().context("--autopilot needs a directory")?.into())
            }
            other => bail!("unknown argument {other}; usage: forge-demo-env [--out DIR] [--autopilot SCREENSHOT_DIR]"),
        }
    }
    Ok(Args { out, autopilot })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forge-demo-env: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o1777))?;
    Ok(())
}

fn run() -> Result<()> {
    let args = args()?;
    if let Some(why) = skip_reason() {
        bail!("cannot run the demo here: {why}");
    }
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!("no display; scripts/demo.sh runs this under xvfb-run when there is none");
    }
    // The autopilot lives only in the test build of the wizard.
    let gui = built_binary(if args.autopilot.is_some() {
        "forge-gui-autopilot"
    } else {
        "forge-gui"
    })?;
    std::fs::create_dir_all(&args.out)?;
    let out = args.out.canonicalize()?;

    eprintln!("== building the demo payload (real Debian kernel + FORGE's packages), signed with a fresh key");
    let payload = forge_tests::test_payload::try_boot_payload()?;
    eprintln!(
        "   payload {}  keyring {}",
        payload.dir.display(),
        payload.keyring.display()
    );

    eprintln!("== starting a private system bus, polkitd and forge-daemon");
    let env = ForgeEnv::start(DaemonOptions {
        payload: Some(payload.dir.clone()),
        keyring: Some(payload.keyring.clone()),
        allow_image_targets: true,
        ..DaemonOptions::default()
    })?;
    let image = env.daemon.create_image("demo.img", 2 << 30)?;
    eprintln!("   bus {}", env.bus.address());
    eprintln!("   disk image {}", image.display());

    let user = users::ensure_user("forge-demo", &[users::TEST_GROUP])?;
    eprintln!(
        "== opening the wizard as {} (group {})",
        user.name,
        users::TEST_GROUP
    );

    let work = tempfile::Builder::new().prefix("forge-demo-").tempdir()?;
    open_dir(work.path())?;
    let home = work.path().join("home");
    open_dir(&home)?;
    let mut cmd = Command::new("runuser");
    cmd.arg("-u")
        .arg(&user.name)
        .arg("--")
        .arg(&gui)
        .env("DBUS_SYSTEM_BUS_ADDRESS", env.bus.address())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &home)
        .env("NO_AT_BRIDGE", "1")
        .env("GSETTINGS_BACKEND", "memory")
        .current_dir("/")
        .stdin(Stdio::null());
    if let Some(x) = std::env::var_os("XAUTHORITY") {
        let copy = work.path().join("Xauthority");
        std::fs::copy(&x, &copy).context("copying XAUTHORITY for the demo user")?;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644))?;
        cmd.env("XAUTHORITY", copy);
    }
    let result = work.path().join("result.json");
    if let Some(shots) = &args.autopilot {
        open_dir(shots)?;
        let script = work.path().join("autopilot.yaml");
        std::fs::write(
            &script,
            format!(
                "locale: en_US.UTF-8\nlayout: us\ntimezone: Europe/Berlin\nboot: bios\n\
                 disk: {}\nfull_name: Demo User\nuser_name: demo\npassword: forge-demo-2026\n\
                 hostname: forge-demo\ndry_run: false\nscreenshots: {}\nresult: {}\nquit: true\n",
                image.display(),
                shots.canonicalize()?.display(),
                result.display()
            ),
        )?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644))?;
        cmd.env("FORGE_GUI_AUTOPILOT", &script);
    }
    let status = cmd.status().context("running forge-gui")?;
    eprintln!("== the wizard closed ({status})");
    if result.exists() {
        let r = std::fs::read_to_string(&result)?;
        eprintln!("   autopilot result:\n{r}");
    }
    if !env.daemon.accepted_plan.exists() {
        eprintln!("---- daemon log ----\n{}", env.daemon.log());
        bail!("no install was started (the daemon accepted no plan)");
    }
    let accepted = std::fs::read_to_string(&env.daemon.accepted_plan)?;
    std::fs::write(out.join("install.yaml"), &accepted)?;
    std::fs::write(out.join("daemon.log"), env.daemon.log())?;
    let kept = out.join("demo.img");
    let cp = Command::new("cp")
        .args(["--sparse=always", "-f"])
        .arg(&image)
        .arg(&kept)
        .status()?;
    if !cp.success() {
        bail!("copying {} to {} failed", image.display(), kept.display());
    }
    println!();
    println!(
        "The install plan the daemon accepted: {}",
        out.join("install.yaml").display()
    );
    println!("The daemon's log: {}", out.join("daemon.log").display());
    println!("The installed disk image: {}", kept.display());
    let efi = accepted.lines().any(|l| l.trim() == "boot: efi")
        || (accepted.lines().any(|l| l.trim() == "boot: auto")
            && Path::new("/sys/firmware/efi").exists());
    if efi {
        println!("Boot it with QEMU (UEFI firmware from the ovmf package, software emulation):");
        println!(
            "  qemu-system-x86_64 -accel tcg -m 1024 -bios /usr/share/ovmf/OVMF.fd -drive file={},format=raw -nographic -serial mon:stdio",
            kept.display()
        );
    } else {
        println!("Boot it with QEMU (BIOS, software emulation):");
        println!(
            "  qemu-system-x86_64 -accel tcg -m 1024 -drive file={},format=raw -nographic -serial mon:stdio",
            kept.display()
        );
    }
    Ok(())
}
