//! FORGE installed the way a distribution installs it (issue 13):
//! `scripts/install.sh --destdir` into `<target>/install-layout/`, then every
//! file and mode of the staged tree is checked, and the validators a
//! distribution runs pass on the installed copies: `desktop-file-validate`,
//! `appstreamcli validate --no-net`, `xmllint` (with the polkit DTD),
//! `systemd-analyze verify` (against the installed daemon binary),
//! `pkaction --verbose` asked of a real polkitd that reads the installed
//! policy (private bus, `forge_tests::polkit`), and the man pages render
//! without warnings and list every option the built programs accept.
//!
//! The release binaries are reused (`--no-build`) when they are newer than
//! their sources (`scripts/test.sh` builds them before the tests, each
//! package alone and with `FORGE_LOCALEDIR=/usr/share/locale`, as
//! install.sh does; a build with another catalog directory fails
//! `installed_programs_look_up_catalogs_in_the_prefix`); otherwise install.sh
//! builds them (minutes). The live variant (`--live`, into a second tree
//! holding an existing configuration) reuses them too.

mod release_build;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use forge_tests::bus::{repo_root, TestBus};
use forge_tests::cmd::{assert_unit_verifies, have};
use forge_tests::polkit::Polkit;
use forge_tests::skip::skip;
use forge_tests::test_payload::target_dir;

/// Runs install.sh into a fresh `<target>/install-layout/<name>` (after
/// `prepare` put something into it), or says why it failed.
fn install(name: &str, args: &[&str], prepare: impl FnOnce(&Path)) -> Result<PathBuf, String> {
    let dest = target_dir().join("install-layout").join(name);
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    prepare(&dest);
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/install.sh"))
        .arg("--destdir")
        .arg(&dest)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .map_err(|e| format!("running install.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "install.sh {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(dest)
}

/// Whether `<target>/release/<bin>` is newer than every source it was
/// built from.
fn fresh(bin: &str) -> bool {
    release_build::not_fresh(&release_build::release_dir().join(bin)).is_none()
}

/// The default install (no `--live`), made once for every test. The
/// release binaries are reused when they are fresh (scripts/test.sh builds
/// them first); otherwise install.sh builds them.
fn installed() -> &'static Path {
    static TREE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let mut bins = vec!["forgectl", "forge-daemon", "forge-gui"];
    if has_tui() {
        bins.push("forge-tui");
    }
    let args: &[&str] = if bins.iter().all(|b| fresh(b)) {
        &["--no-build"]
    } else {
        &[]
    };
    match TREE.get_or_init(|| install("default", args, |_| ())) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// What the admin had in /etc/forge/forge-daemon.yaml before the live install.
const OWN_CONFIG: &str = "# the administrator's own configuration\npayload: /srv/payload\n";

/// `--live --no-build` into a tree that already holds a configuration.
fn installed_live() -> &'static Path {
    static TREE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    installed(); // the release binaries are built
    match TREE.get_or_init(|| {
        install("live", &["--live", "--no-build"], |dest| {
            let etc = dest.join("etc/forge");
            std::fs::create_dir_all(&etc).unwrap();
            std::fs::write(etc.join("forge-daemon.yaml"), OWN_CONFIG).unwrap();
        })
    }) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn has_tui() -> bool {
    repo_root().join("crates/forge-tui/Cargo.toml").exists()
}

fn languages() -> Vec<String> {
    std::fs::read_to_string(repo_root().join("po/LINGUAS"))
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Every file the default install must produce (man pages of forgectl's
/// subcommands are checked separately), with its mode.
fn expected_files() -> Vec<(String, u32)> {
    let mut f: Vec<(String, u32)> = vec![
        ("usr/bin/forgectl".into(), 0o755),
        ("usr/bin/forge-gui".into(), 0o755),
        ("usr/libexec/forge-daemon".into(), 0o755),
    ];
    if has_tui() {
        f.push(("usr/bin/forge-tui".into(), 0o755));
        f.push(("usr/share/man/man1/forge-tui.1".into(), 0o644));
    }
    for data in [
        "usr/share/dbus-1/system.d/org.intergenos.Forge1.conf",
        "usr/share/dbus-1/system-services/org.intergenos.Forge1.service",
        "usr/lib/systemd/system/forge-daemon.service",
        "usr/share/polkit-1/actions/org.intergenos.forge.policy",
        "etc/forge/forge-daemon.yaml",
        "usr/share/doc/forge/forge-daemon.yaml.example",
        "usr/share/doc/forge/examples/install.yaml",
        "usr/share/doc/forge/daemon.md",
        "usr/share/doc/forge/install-yaml.md",
        "usr/share/doc/forge/system-integration.md",
        "usr/share/applications/org.intergenos.Forge.desktop",
        "usr/share/metainfo/org.intergenos.Forge.metainfo.xml",
        "usr/share/icons/hicolor/scalable/apps/org.intergenos.Forge.svg",
        "usr/share/icons/hicolor/symbolic/apps/org.intergenos.Forge-symbolic.svg",
        "usr/share/man/man1/forgectl.1",
        "usr/share/man/man8/forge-daemon.8",
    ] {
        f.push((data.into(), 0o644));
    }
    for l in languages() {
        f.push((format!("usr/share/locale/{l}/LC_MESSAGES/forge.mo"), 0o644));
    }
    f
}

/// Every file below `root` (relative path, mode), and every directory's mode.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, u32)>, dirs: &mut Vec<(String, u32)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            dirs.push((rel, mode));
            walk(root, &p, files, dirs);
        } else {
            files.push((rel, mode));
        }
    }
}

fn check_tree(root: &Path, mut expected: Vec<(String, u32)>) {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    walk(root, root, &mut files, &mut dirs);
    // forgectl's subcommand pages, which must be 0644 like every page.
    let pages: Vec<(String, u32)> = files
        .iter()
        .filter(|(p, _)| p.starts_with("usr/share/man/man1/forgectl-") && p.ends_with(".1"))
        .map(|(p, _)| (p.clone(), 0o644))
        .collect();
    for want in ["validate", "install", "disks", "groups", "payload"] {
        assert!(
            pages
                .iter()
                .any(|(p, _)| p.ends_with(&format!("/forgectl-{want}.1"))),
            "forgectl-{want}.1 is not installed (the main page refers to it)"
        );
    }
    expected.extend(pages);
    let got: BTreeSet<_> = files.iter().cloned().collect();
    let want: BTreeSet<_> = expected.iter().cloned().collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "installed tree {}:\n  missing or wrong mode: {missing:?}\n  unexpected or wrong mode: {extra:?}",
        root.display()
    );
    let bad_dirs: Vec<_> = dirs.iter().filter(|(_, m)| *m != 0o755).collect();
    assert!(bad_dirs.is_empty(), "directories not 0755: {bad_dirs:?}");
}

#[test]
fn default_install_has_every_file_with_its_mode_and_no_live_rule() {
    let root = installed();
    check_tree(root, expected_files());
    let conf = std::fs::read_to_string(root.join("etc/forge/forge-daemon.yaml")).unwrap();
    let example =
        std::fs::read_to_string(repo_root().join("data/forge-daemon.yaml.example")).unwrap();
    assert_eq!(conf, example, "the configuration is the example");
}

#[test]
fn live_install_adds_only_the_rule_and_keeps_an_existing_configuration() {
    let root = installed_live();
    let mut want = expected_files();
    want.push((
        "usr/share/polkit-1/rules.d/49-forge-live.rules".into(),
        0o644,
    ));
    check_tree(root, want);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/forge/forge-daemon.yaml")).unwrap(),
        OWN_CONFIG,
        "install.sh overwrote an existing /etc/forge/forge-daemon.yaml"
    );
    let rule = std::fs::read_to_string(root.join("usr/share/polkit-1/rules.d/49-forge-live.rules"))
        .unwrap();
    let code: String = rule
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    assert!(code.contains("subject.active") && !code.contains("subject.local &&"));
    assert!(code.contains("\"org.intergenos.forge.install\""));
    assert!(
        !code.contains("override-integrity"),
        "the live rule must not waive the integrity override's authentication"
    );
}

#[test]
fn desktop_entry_validates_and_names_installed_files() {
    if !have("desktop-file-validate") {
        skip("desktop-file-validate is missing (desktop-file-utils)");
        return;
    }
    let root = installed();
    let path = root.join("usr/share/applications/org.intergenos.Forge.desktop");
    let out = Command::new("desktop-file-validate")
        .arg(&path)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "desktop-file-validate: {said}"
    );
    let entry = std::fs::read_to_string(&path).unwrap();
    let value = |key: &str| {
        entry
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key}= missing"))
            .to_string()
    };
    assert_eq!(value("Categories"), "System;");
    assert_eq!(value("Exec"), "forge-gui");
    assert!(root.join("usr/bin/forge-gui").exists());
    assert_eq!(value("Icon"), forge_gui_app_id());
    assert!(value("Keywords").contains("installer;"));
    // The name is translated from the catalogs (msgfmt --desktop).
    for l in languages() {
        assert!(
            entry.contains(&format!("Name[{l}]=")),
            "no Name[{l}] in the installed desktop entry"
        );
    }
}

/// The application id the GUI registers (its desktop file and icon name).
fn forge_gui_app_id() -> String {
    let lib = std::fs::read_to_string(repo_root().join("crates/forge-gui/src/lib.rs")).unwrap();
    lib.lines()
        .find_map(|l| l.strip_prefix("pub const APP_ID: &str = \""))
        .and_then(|r| r.strip_suffix("\";"))
        .expect("APP_ID in forge-gui")
        .to_string()
}

#[test]
fn metainfo_validates_and_its_screenshots_are_kept() {
    if !have("appstreamcli") {
        skip("appstreamcli is missing (appstream)");
        return;
    }
    let root = installed();
    let path = root.join("usr/share/metainfo/org.intergenos.Forge.metainfo.xml");
    let out = Command::new("appstreamcli")
        .args(["validate", "--no-net"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "appstreamcli validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&path).unwrap();
    let id = forge_gui_app_id();
    assert!(xml.contains(&format!("<id>{id}</id>")));
    assert!(xml.contains(&format!(
        "<launchable type=\"desktop-id\">{id}.desktop</launchable>"
    )));
    // Each published screenshot is kept in data/screenshots/ (a GUI test's capture).
    let mut n = 0;
    for url in xml
        .split("https://intergenos.org/forge/screenshots/")
        .skip(1)
    {
        let name = url.split('<').next().unwrap();
        assert!(
            repo_root().join("data/screenshots").join(name).is_file(),
            "screenshot {name} is not in data/screenshots/"
        );
        n += 1;
    }
    assert!(n >= 3, "only {n} screenshots");
}

#[test]
fn bus_and_polkit_policies_are_valid_xml() {
    if !have("xmllint") {
        skip("xmllint is missing (libxml2-utils)");
        return;
    }
    let root = installed();
    // The DTDs are used when the system has them (polkit ships its own;
    // Debian's dbus package does not ship busconfig.dtd).
    for (file, dtd) in [
        (
            "usr/share/dbus-1/system.d/org.intergenos.Forge1.conf",
            "/usr/share/xml/dbus-1/busconfig.dtd",
        ),
        (
            "usr/share/polkit-1/actions/org.intergenos.forge.policy",
            "/usr/share/polkit-1/policyconfig-1.dtd",
        ),
    ] {
        let mut cmd = Command::new("xmllint");
        cmd.args(["--noout", "--nonet"]);
        if Path::new(dtd).exists() {
            cmd.arg("--dtdvalid").arg(dtd);
        }
        let out = cmd.arg(root.join(file)).output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "xmllint {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn systemd_unit_and_activation_file_start_the_installed_daemon() {
    if !have("systemd-analyze") {
        skip("systemd-analyze is missing");
        return;
    }
    let root = installed();
    let unit_path = root.join("usr/lib/systemd/system/forge-daemon.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let act = std::fs::read_to_string(
        root.join("usr/share/dbus-1/system-services/org.intergenos.Forge1.service"),
    )
    .unwrap();
    let exec = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} missing"))
            .to_string()
    };
    let start = exec(&unit, "ExecStart=");
    assert_eq!(
        start,
        exec(&act, "Exec="),
        "unit and activation file differ"
    );
    assert!(act.contains("SystemdService=forge-daemon.service"));
    let binary = start.split_whitespace().next().unwrap();
    assert_eq!(binary, "/usr/libexec/forge-daemon");
    let config = start.split_whitespace().last().unwrap();
    assert!(root.join(config.trim_start_matches('/')).is_file());
    // Verify the unit with its ExecStart pointing at the installed binary.
    let installed_binary = root.join(binary.trim_start_matches('/'));
    assert!(installed_binary.is_file());
    assert_unit_verifies(&unit.replace(binary, &installed_binary.display().to_string()));
}

#[test]
fn pkaction_describes_the_installed_actions() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        skip("polkitd in a private mount namespace needs root");
        return;
    }
    if !have("pkaction") || !have("dbus-daemon") {
        skip("pkaction or dbus-daemon is missing (pkexec, dbus)");
        return;
    }
    let root = installed();
    let bus = TestBus::start().expect("private bus");
    let policy = root.join("usr/share/polkit-1/actions/org.intergenos.forge.policy");
    let _polkit = match Polkit::start_with_policy(&bus, &policy, "") {
        Ok(p) => p,
        Err(e) => {
            skip(format!("polkitd: {e:#}"));
            return;
        }
    };
    for (id, description, active) in [
        (
            forge_proto::dbus::ACTION_INSTALL,
            "Install an operating system",
            "auth_admin_keep",
        ),
        (
            forge_proto::dbus::ACTION_OVERRIDE,
            "Install packages that failed verification",
            "auth_admin",
        ),
    ] {
        let out = Command::new("pkaction")
            .args(["--action-id", id, "--verbose"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "pkaction {id}: {}{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim_start_matches(':').trim().to_string())
                .unwrap_or_else(|| panic!("pkaction {id}: no {name} in\n{text}"))
        };
        assert_eq!(field("description"), description);
        assert_eq!(field("vendor"), "InterGenOS");
        assert_eq!(field("implicit any"), "auth_admin");
        assert_eq!(field("implicit inactive"), "auth_admin");
        assert_eq!(field("implicit active"), active, "{id}");
    }
}

/// The long options `bin args... --help` lists.
fn long_options(bin: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new(bin)
        .args(args)
        .arg("--help")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(out.status.success(), "{} {args:?} --help", bin.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut opts: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.split(['=', '<'])
                .next()
                .unwrap()
                .trim_end_matches('.')
                .to_string()
        })
        .collect();
    opts.sort();
    opts.dedup();
    opts
}

#[test]
fn man_pages_render_without_warnings_and_list_every_option() {
    if !have("groff") {
        skip("groff is missing (groff-base)");
        return;
    }
    let root = installed();
    let man1 = root.join("usr/share/man/man1");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&man1)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.push(root.join("usr/share/man/man8/forge-daemon.8"));
    for page in &pages {
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(page)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "groff {}: {}",
            page.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Each page is rendered from the clap definition the binary parses:
    // every option its --help lists is in its page.
    let mut checks: Vec<(PathBuf, Vec<&str>, PathBuf)> = vec![
        (
            root.join("usr/libexec/forge-daemon"),
            vec![],
            root.join("usr/share/man/man8/forge-daemon.8"),
        ),
        (
            root.join("usr/bin/forgectl"),
            vec![],
            man1.join("forgectl.1"),
        ),
    ];
    for sub in ["validate", "install", "disks", "groups"] {
        checks.push((
            root.join("usr/bin/forgectl"),
            vec![sub],
            man1.join(format!("forgectl-{sub}.1")),
        ));
    }
    for sub in ["build", "verify", "deploy"] {
        checks.push((
            root.join("usr/bin/forgectl"),
            vec!["payload", sub],
            man1.join(format!("forgectl-payload-{sub}.1")),
        ));
    }
    if has_tui() {
        checks.push((
            root.join("usr/bin/forge-tui"),
            vec![],
            man1.join("forge-tui.1"),
        ));
    }
    for (bin, args, page) in checks {
        // roff escapes '-' as '\-'.
        let text = std::fs::read_to_string(&page).unwrap().replace("\\-", "-");
        for opt in long_options(&bin, &args) {
            assert!(
                text.contains(&opt),
                "{}: {opt} (from {} {args:?} --help) is not documented",
                page.display(),
                bin.display()
            );
        }
    }
}

/// forgectl and forge-daemon take their catalog directory from
/// `FORGE_LOCALEDIR` at build time: the installed ones look in the
/// prefix's, not in a build tree's.
#[test]
fn installed_programs_look_up_catalogs_in_the_prefix() {
    let root = installed();
    for bin in ["usr/bin/forgectl", "usr/libexec/forge-daemon"] {
        let bytes = std::fs::read(root.join(bin)).unwrap();
        let has = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
        assert!(has("/usr/share/locale"), "{bin}: no /usr/share/locale");
        assert!(
            !has("target/locale"),
            "{bin} was built with FORGE_LOCALEDIR pointing into a build tree"
        );
    }
}
