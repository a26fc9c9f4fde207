//! `forgectl validate FILE` as a person runs it: exit 0 for a valid plan,
//! 1 with one `field: message` line per problem, 2 for a file that cannot be
//! read or is not YAML (naming line and column), 2 when a system list is
//! missing (naming it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../tests/harness/skip.rs"]
mod skip;

const FORGECTL: &str = env!("CARGO_BIN_EXE_forgectl");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example() -> PathBuf {
    repo().join("data/examples/install.yaml")
}

fn forgectl(args: &[&str]) -> Output {
    Command::new(FORGECTL)
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .env("LANGUAGE", "")
        .output()
        .expect("forgectl runs")
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Whether this machine has the lists `forgectl validate` reads by default.
fn system_lists_present() -> bool {
    let present = [
        "/usr/share/i18n/SUPPORTED",
        "/usr/share/X11/xkb/rules/evdev.xml",
        "/usr/share/zoneinfo/tzdata.zi",
    ]
    .iter()
    .all(|p| Path::new(p).is_file());
    if !present {
        skip::skip("system lists missing; run scripts/setup-debian.sh (locales, xkb-data, tzdata)");
    }
    present
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write test file");
    p
}

/// A sysroot holding forge-proto's fixture lists.
fn fixture_sysroot(dir: &Path) -> PathBuf {
    let fx = repo().join("crates/forge-proto/tests/fixtures/catalog");
    let root = dir.join("sysroot");
    let copy = |from: &str, to: &str| {
        let to = root.join(to);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(fx.join(from), &to).expect("copy fixture");
    };
    copy("SUPPORTED", "usr/share/i18n/SUPPORTED");
    copy("evdev.xml", "usr/share/X11/xkb/rules/evdev.xml");
    copy("zoneinfo/tzdata.zi", "usr/share/zoneinfo/tzdata.zi");
    root
}

#[test]
fn valid_plan_exits_0() {
    if !system_lists_present() {
        return;
    }
    let out = forgectl(&["validate", example().to_str().expect("utf-8 path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {} stderr {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn four_problems_each_with_its_field_exit_1() {
    if !system_lists_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = std::fs::read_to_string(example())
        .expect("example")
        .replace("hostname: igos-desk", "hostname: -Igos_Desk-")
        .replace("timezone: Europe/Berlin", "timezone: Mars/Olympus_Mons")
        .replace("name: alice", "name: root")
        .replace("desktop]", "desktop, games]");
    let file = write(dir.path(), "bad.yaml", &plan);
    let out = forgectl(&["validate", file.to_str().expect("utf-8 path")]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout {stdout} stderr {}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    for (field, needle) in [
        ("hostname", "lowercase"),
        ("timezone", "Mars/Olympus_Mons"),
        ("user.name", "reserved"),
        ("package_groups[4]", "games"),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{field}: ")) && l.contains(needle)),
            "no `{field}: …{needle}…` line in:\n{stdout}"
        );
    }
    // One `field: message` line per problem, nothing else.
    for l in &lines {
        let (field, message) = l.split_once(": ").expect("field: message");
        assert!(
            ["hostname", "timezone", "user.name", "package_groups[4]"].contains(&field),
            "unexpected line {l}"
        );
        assert!(!message.is_empty());
    }
}

#[test]
fn structural_problems_exit_1_with_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = fixture_sysroot(dir.path());
    let plan = std::fs::read_to_string(example())
        .expect("example")
        .replace("admin: true", "admin: true, shell: /bin/zsh")
        .replace("version: 1", "version: 2");
    let file = write(dir.path(), "bad.yaml", &plan);
    let out = forgectl(&[
        "validate",
        "--sysroot",
        root.to_str().expect("utf-8"),
        file.to_str().expect("utf-8"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("user.shell: unknown field")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("version: ")),
        "{stdout}"
    );
}

#[test]
fn fixture_sysroot_accepts_the_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = fixture_sysroot(dir.path());
    let out = forgectl(&[
        "validate",
        "--sysroot",
        root.to_str().expect("utf-8"),
        example().to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn not_yaml_exits_2_naming_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "broken.yaml",
        "version: 1\nhostname: igos\n  locale: : en_US.UTF-8\n",
    );
    let out = forgectl(&["validate", file.to_str().expect("utf-8")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("broken.yaml"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("column "), "{stderr}");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn unreadable_files_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.yaml");
    let out = forgectl(&["validate", missing.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope.yaml"));

    // A directory is not a plan.
    let out = forgectl(&["validate", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));

    // Not UTF-8.
    let bin = dir.path().join("binary.yaml");
    std::fs::write(&bin, b"version: 1\nhostname: \xff\xfe\n").expect("write");
    let out = forgectl(&["validate", bin.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("binary.yaml"));
}

#[test]
fn missing_system_list_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = fixture_sysroot(dir.path());
    std::fs::remove_file(root.join("usr/share/zoneinfo/tzdata.zi")).expect("rm");
    let out = forgectl(&[
        "validate",
        "--sysroot",
        root.to_str().expect("utf-8"),
        example().to_str().expect("utf-8"),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tzdata.zi"), "{stderr}");
}
