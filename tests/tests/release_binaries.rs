//! The shipped binaries carry no test machinery (issue 10): a release build
//! of `forge-daemon` and `forge-gui` (`cargo build --release -p forge-daemon
//! -p forge-gui`, which `scripts/test.sh` runs before the tests, selecting
//! only those packages so no test feature is unified in) must contain none
//! of the daemon's fault injection (cargo feature `fault-injection`), the
//! GUI's autopilot, bench and screenshot code (feature `autopilot`) or
//! `forge-payload`'s `testkit` (feature `testkit`).
//!
//! Two kinds of marker: strings the test code puts into a binary (a config
//! key, an environment variable, a message) are searched in its bytes; the
//! test modules' symbol paths are searched in `nm -C`'s listing (release
//! binaries keep their symbol table unless stripped). A positive control
//! (a string every build has, and the crate's own symbols) keeps the scan
//! from passing vacuously. A binary that is not built, or older than one of
//! the sources cargo built it from (its dep-info, `<name>.d`), is a skip (a
//! failure under `FORGE_TEST_STRICT=1`).

mod release_build;

use std::path::Path;
use std::process::Command;

use forge_tests::skip::skip;
use release_build::release_dir;

/// `forge-payload`'s testkit, which neither binary may carry.
const TESTKIT_STRINGS: &[&str] = &[
    "FORGE Test Release <release@example.org>",
    "gpg --quick-gen-key failed",
];
const TESTKIT_SYMBOLS: &[&str] = &["forge_payload::testkit::"];

struct Shipped {
    name: &'static str,
    /// A string every build of it holds (positive control).
    control: &'static str,
    /// Its own symbol prefix (positive control of the symbol listing).
    own_symbols: &'static str,
    strings: &'static [&'static str],
    symbols: &'static [&'static str],
}

const SHIPPED: &[Shipped] = &[
    Shipped {
        name: "forge-daemon",
        control: "org.intergenos.Forge1",
        own_symbols: "forge_daemon::",
        // The fault-injection configuration keys and messages.
        strings: &[
            "test_fail_at_phase",
            "test_panic_at_phase",
            "fault injection configured for phase",
            "panic injection configured for phase",
        ],
        symbols: &["forge_daemon::pipeline::injected_fault"],
    },
    Shipped {
        name: "forge-gui",
        control: "org.intergenos.Forge1",
        own_symbols: "forge_gui::",
        // The autopilot's and the bench's switches; the autopilot types
        // the integrity phrase with xdotool.
        strings: &["FORGE_GUI_AUTOPILOT", "FORGE_GUI_BENCH", "xdotool"],
        symbols: &[
            "forge_gui::autopilot::",
            "forge_gui::bench::",
            "forge_gui::shot::",
        ],
    },
];

/// Why `bin` cannot be inspected here, if it cannot.
fn unusable(bin: &Path) -> Option<String> {
    let how = "run `cargo build --release -p forge-daemon -p forge-gui` (scripts/test.sh does)";
    release_build::not_fresh(bin).map(|why| format!("{why}; {how}"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The demangled symbol listing, or `None` when `nm` is missing.
fn symbols(bin: &Path) -> Option<String> {
    let out = Command::new("nm").arg("-C").arg(bin).output().ok()?;
    // A stripped binary: nm says "no symbols" and fails; an empty listing.
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn inspect(s: &Shipped) {
    let bin = release_dir().join(s.name);
    if let Some(why) = unusable(&bin) {
        skip(why);
        return;
    }
    let bytes = std::fs::read(&bin).expect("read the release binary");
    assert!(
        contains(&bytes, s.control.as_bytes()),
        "{}: the control string {:?} is missing, so the scan cannot be trusted",
        bin.display(),
        s.control
    );
    let mut found: Vec<String> = s
        .strings
        .iter()
        .chain(TESTKIT_STRINGS)
        .filter(|m| contains(&bytes, m.as_bytes()))
        .map(|m| format!("string {m:?}"))
        .collect();

    match symbols(&bin) {
        None => skip("nm (binutils) is missing; the symbol markers are not checked"),
        Some(listing) if !listing.contains(s.own_symbols) => eprintln!(
            "{}: no {} symbols (stripped); only the string markers were checked",
            bin.display(),
            s.own_symbols
        ),
        Some(listing) => found.extend(
            s.symbols
                .iter()
                .chain(TESTKIT_SYMBOLS)
                .filter_map(|m| listing.lines().find(|l| l.contains(m)))
                .map(|l| format!("symbol {}", l.trim())),
        ),
    }
    assert!(
        found.is_empty(),
        "{} (release) carries test machinery:\n  {}",
        bin.display(),
        found.join("\n  ")
    );
}

#[test]
fn release_forge_daemon_has_no_fault_injection_or_testkit() {
    inspect(&SHIPPED[0]);
}

#[test]
fn release_forge_gui_has_no_autopilot_bench_screenshots_or_testkit() {
    inspect(&SHIPPED[1]);
}
