//! Issue 13, scenario 5: the graphical frontend in the live VM. Inside the
//! live session (the live user's shell on the serial console), an X server
//! without a screen (`Xvfb :1 -nolisten tcp`, no xauth in the tree: local
//! connections only), a session bus (`dbus-run-session`: the wizard is a
//! GApplication) and, in that session, `gio launch` on the INSTALLED
//! desktop entry `/usr/share/applications/org.intergenos.Forge.desktop`,
//! whose `Exec=forge-gui` is, on the test medium, the wizard built with its
//! autopilot (`FORGE_LIVE_GUI`, scripts/build-live.sh). The autopilot
//! (`FORGE_GUI_AUTOPILOT`, crates/forge-gui/src/autopilot.rs) walks every
//! screen, EFI boot, `/dev/vda`, a user and a Secure Boot password, and
//! presses Install as a dry run; the daemon is D-Bus activated by the
//! wizard's first call if not running, and the live polkit rule lets the
//! live user's active session install without a password.
//!
//! `gio launch` returns at once, so a runner script keeps the X server and
//! the session bus alive until the result JSON appears and the wizard has
//! closed itself (`quit: true`), or its own time limit passes. While the
//! wizard runs it records the process's `exe`, `cmdline` and
//! `GIO_LAUNCHED_DESKTOP_FILE_PID`: GLib starts a desktop entry's `Exec`
//! through its helper `gio-launch-desktop`, which sets that variable to its
//! own pid and then execs the command, so it equals the wizard's pid only
//! in a process GLib launched from a desktop entry (GLib 2.74 does not set
//! `GIO_LAUNCHED_DESKTOP_FILE` for `gio launch`). With `exe`
//! `/usr/bin/forge-gui`, `cmdline` the entry's `Exec=forge-gui` and the one
//! launch being `gio launch` on the installed entry, that is the proof.
//!
//! Checked: every screen walked in order, done reached with "Installation
//! Complete", no integrity dialog, no error; the plan holds the choices;
//! `forge-daemon.service` is active on its bus name, and its journal has
//! polkit's authorization of the install and the dry-run job on `/dev/vda`
//! started and `succeeded`; no password in the plan, the wizard's output or the
//! journal. Saved in `log_dir`: `gui-result.json`, `gui-output.log` (the
//! wizard's stderr: GTK warnings), `gui-xvfb.log`, `gui-daemon.log`,
//! `gui-runner.log`. No screenshots (PNG over the serial console is slow).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use forge_tests::qemu::session::SessionVm;
use serde_json::Value;

/// The runner's own limit for the wizard's walk (GTK's start and a debug
/// build under TCG are slow); the console command gets a minute more.
const WALK_LIMIT_SECS: u64 = 900;
const SHORT: Duration = Duration::from_secs(60);
const DIR: &str = "/tmp/forge-gui";
const DESKTOP_FILE: &str = "/usr/share/applications/org.intergenos.Forge.desktop";
const USER_PW: &str = "Guiuser-4d2e-LEAKCHECK";
const SB_PW: &str = "Guisb-81c3-LEAKCHECK";
/// Every screen of the wizard, in order (as tests/tests/gui_walk.rs).
pub const SCREENS: [&str; 8] = [
    "welcome",
    "keyboard_locale",
    "disk",
    "user",
    "packages",
    "confirm",
    "progress",
    "done",
];

/// What the GUI scenario saw.
#[derive(Debug, Clone)]
pub struct GuiDryRun {
    /// The screens the autopilot walked.
    pub screens: Vec<String>,
    /// The Done page's title.
    pub done_title: String,
    /// The wizard's pid and its `GIO_LAUNCHED_DESKTOP_FILE_PID` (equal:
    /// launched by GLib from the desktop entry).
    pub pid: String,
    pub desktop_launch_pid: String,
    /// `/proc/<pid>/exe` and `cmdline` of the wizard.
    pub exe: String,
    pub cmdline: String,
    /// The wizard's first call started the daemon (D-Bus activation seen in
    /// the journal during the scenario); false when it was running before.
    pub activated_by_gui: bool,
    /// Lines of the wizard's output with a GTK/GLib warning or critical.
    pub gtk_warnings: usize,
    /// The daemon's journal lines of the dry-run job.
    pub job_lines: Vec<String>,
    /// Seconds from the runner's start: X server up, wizard seen, result.
    pub x_ready_s: u64,
    pub gui_seen_s: u64,
    pub result_s: u64,
    /// The whole scenario, as the host saw it.
    pub elapsed: Duration,
}

impl GuiDryRun {
    /// One paragraph for the test's output: what was checked, and when.
    pub fn summary(&self) -> String {
        format!(
            "forge-gui ({} `{}`, pid {} = GIO_LAUNCHED_DESKTOP_FILE_PID {}: launched from \
             {DESKTOP_FILE}) walked {} to {:?}; {} GTK warning line(s); daemon activated by the wizard: {}; {}; \
             X server up at {}s, wizard seen at {}s, result at {}s; scenario {:.1?}",
            self.exe,
            self.cmdline,
            self.pid,
            self.desktop_launch_pid,
            self.screens.join(" → "),
            self.done_title,
            self.gtk_warnings,
            self.activated_by_gui,
            self.job_lines.join(" | "),
            self.x_ready_s,
            self.gui_seen_s,
            self.result_s,
            self.elapsed
        )
    }
}

fn script_yaml() -> String {
    format!(
        "locale: en_US.UTF-8\nlayout: us\ntimezone: Europe/Berlin\nboot: efi\n\
         disk: /dev/vda\nfull_name: Gui Tester\nuser_name: guitest\nadmin: true\n\
         password: {USER_PW}\nsecure_boot_password: {SB_PW}\nhostname: forge-gui-live\n\
         dry_run: true\nresult: {DIR}/result.json\nquit: true\n"
    )
}

/// The runner (bash, run as the live user). Prints `T <event> <seconds>`
/// lines and `GUI <key>=<value>` lines; exits 0 when the result exists.
fn runner() -> String {
    format!(
        r#"d={DIR}; t0=$(date +%s); el() {{ echo $(( $(date +%s) - t0 )); }}
Xvfb :1 -nolisten tcp -screen 0 1280x800x24 >$d/xvfb.log 2>&1 & xp=$!
i=0; while [ ! -S /tmp/.X11-unix/X1 ] && [ $i -lt 120 ] && kill -0 $xp 2>/dev/null; do sleep 1; i=$((i+1)); done
[ -S /tmp/.X11-unix/X1 ] || {{ echo "GUI error=no X server"; cat $d/xvfb.log; kill $xp; exit 3; }}
echo "T x_ready $(el)"
export T0=$t0 DISPLAY=:1 GDK_BACKEND=x11 GSK_RENDERER=cairo NO_AT_BRIDGE=1 GTK_A11Y=none GSETTINGS_BACKEND=memory RUST_LOG=info FORGE_GUI_AUTOPILOT=$d/script.yaml
dbus-run-session -- bash $d/session.sh; st=$?
kill $xp; wait $xp 2>/dev/null; exit $st
"#
    )
}

/// In the session bus: launch the entry, watch the process, wait for the
/// result and for the wizard to close.
fn session_script() -> String {
    format!(
        r#"d={DIR}; t0=$T0; el() {{ echo $(( $(date +%s) - t0 )); }}
gio launch {DESKTOP_FILE} >$d/gui.log 2>&1 || {{ echo "GUI error=gio launch failed $?"; cat $d/gui.log; exit 4; }}
echo "T launched $(el)"
pid=; i=0
while [ $i -lt {WALK_LIMIT_SECS} ]; do
  if [ -z "$pid" ]; then
    for p in /proc/[0-9]*; do c=; read -r c 2>/dev/null <$p/comm; [ "$c" = forge-gui ] && pid=${{p#/proc/}}; done
    if [ -n "$pid" ]; then
      echo "T gui_seen $(el)"
      echo "GUI exe=$(readlink /proc/$pid/exe)"
      echo "GUI cmdline=$(tr '\0' ' ' </proc/$pid/cmdline)"
      echo "GUI pid=$pid"
      echo "GUI $(tr '\0' '\n' </proc/$pid/environ | grep '^GIO_LAUNCHED_DESKTOP_FILE_PID=')"
    fi
  fi
  if [ -s $d/result.json ]; then
    [ -n "$r" ] || {{ r=$i; echo "T result $(el)"; }}
    {{ [ -n "$pid" ] && [ -d /proc/$pid ] && [ $((i - r)) -lt 60 ]; }} || break
  elif [ -n "$pid" ] && [ ! -d /proc/$pid ] && [ ! -s $d/result.json ]; then
    echo "GUI error=forge-gui exited without a result after $(el)s"; exit 6
  elif [ -z "$pid" ] && [ $i -ge 300 ]; then
    echo "GUI error=no forge-gui process after $(el)s"; exit 7
  fi
  sleep 1; i=$((i+1))
done
[ -s $d/result.json ] || {{ echo "GUI error=no result after $(el)s"; exit 5; }}
[ -n "$pid" ] && [ -d /proc/$pid ] && echo "GUI still_running=yes" && kill $pid
echo "T closed $(el)"
exit 0
"#
    )
}

/// Writes `text` to `path` in the VM through a quoted here-document.
fn put_file(vm: &mut SessionVm, path: &str, text: &str) -> Result<()> {
    let cmd = format!("cat >{path} <<'FORGE_GUI_EOF'\n{text}FORGE_GUI_EOF");
    let (st, out) = vm.run(&cmd, SHORT)?;
    if st != 0 {
        bail!("writing {path} in the VM failed ({st}): {out}");
    }
    Ok(())
}

fn save(log_dir: &Path, name: &str, text: &str) {
    let path = log_dir.join(name);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("saving {}: {e}", path.display());
    }
}

/// `cat` of a file in the VM (empty when missing).
fn read_back(vm: &mut SessionVm, path: &str) -> Result<String> {
    Ok(vm.run(&format!("cat {path} 2>/dev/null"), SHORT)?.1)
}

fn value<'a>(runner_out: &'a str, key: &str) -> &'a str {
    runner_out
        .lines()
        .find_map(|l| l.strip_prefix("GUI ")?.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or("")
        .trim()
}

fn seconds(runner_out: &str, event: &str) -> u64 {
    runner_out
        .lines()
        .find_map(|l| {
            l.strip_prefix("T ")?
                .strip_prefix(event)?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Scenario 5: forge-gui from its desktop entry under Xvfb walks every
/// screen to a dry run through the activated daemon (see the module
/// header). Files go to `log_dir`; errors carry the runner's output, the
/// wizard's output and the daemon's journal.
pub fn gui_dry_run(vm: &mut SessionVm, log_dir: &Path) -> Result<GuiDryRun> {
    let start = Instant::now();
    std::fs::create_dir_all(log_dir).with_context(|| format!("{}", log_dir.display()))?;
    let pre = vm.run(
        &format!(
            "rm -rf {DIR}; mkdir -p {DIR} && grep -E '^(Exec|TryExec)=' {DESKTOP_FILE} && \
             command -v forge-gui Xvfb gio dbus-run-session && echo EPOCH=$(date +%s)"
        ),
        SHORT,
    )?;
    if pre.0 != 0 {
        bail!(
            "the live tree lacks what the GUI scenario needs (the desktop entry, forge-gui, \
             Xvfb, gio or dbus-run-session):\n{}",
            pre.1
        );
    }
    if !pre.1.lines().any(|l| l == "Exec=forge-gui") {
        bail!("{DESKTOP_FILE} does not start forge-gui:\n{}", pre.1);
    }
    // No history expansion of the scripts' `!` (an interactive shell).
    vm.run("set +H", SHORT)?;
    let epoch = pre
        .1
        .lines()
        .find_map(|l| l.strip_prefix("EPOCH="))
        .unwrap_or("0")
        .to_string();
    put_file(vm, &format!("{DIR}/script.yaml"), &script_yaml())?;
    put_file(vm, &format!("{DIR}/run.sh"), &runner())?;
    put_file(vm, &format!("{DIR}/session.sh"), &session_script())?;
    let limit = Duration::from_secs(WALK_LIMIT_SECS + 180);
    let (status, out) = vm.run(&format!("bash {DIR}/run.sh 2>&1"), limit)?;
    save(log_dir, "gui-runner.log", &out);
    let gui_log = read_back(vm, &format!("{DIR}/gui.log"))?;
    save(log_dir, "gui-output.log", &gui_log);
    save(
        log_dir,
        "gui-xvfb.log",
        &read_back(vm, &format!("{DIR}/xvfb.log"))?,
    );
    // The daemon's journal since the scenario began (not an earlier one's).
    let journal = vm
        .run(
            &format!(
                "systemctl show forge-daemon -p ActiveState -p BusName; \
                 sudo -n journalctl -b -u forge-daemon --since @{epoch} -o cat --no-pager 2>&1 \
                 | tail -n 400"
            ),
            SHORT,
        )?
        .1;
    save(log_dir, "gui-daemon.log", &journal);
    let result = read_back(vm, &format!("{DIR}/result.json"))?;
    save(log_dir, "gui-result.json", &result);
    let context = || {
        format!(
            "runner (exit {status}):\n{out}\n--- forge-gui output (tail) ---\n{}\n--- forge-daemon journal (tail) ---\n{}",
            tail(&gui_log, 40),
            tail(&journal, 30)
        )
    };
    if status != 0 {
        bail!("the GUI walk did not finish:\n{}", context());
    }
    let res: Value = serde_json::from_str(&result)
        .with_context(|| format!("result JSON {result:?}\n{}", context()))?;
    let screens: Vec<String> = res["screens"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let done_title = res["done_title"].as_str().unwrap_or_default().to_string();
    let mut problems = Vec::new();
    if res["error"].as_str() != Some("") {
        problems.push(format!("the autopilot reported an error: {}", res["error"]));
    }
    if screens != SCREENS {
        problems.push(format!("screens walked {screens:?}, not {SCREENS:?}"));
    }
    if res["reached_done"] != true || done_title != "Installation Complete" {
        problems.push(format!("done not reached with success: {done_title:?}"));
    }
    if res["integrity_dialog"] != false {
        problems.push("an integrity dialog appeared".into());
    }
    let plan = res["plan_yaml"].as_str().unwrap_or_default();
    for want in ["boot: efi", "name: guitest", "hostname: forge-gui-live"] {
        if !plan.contains(want) {
            problems.push(format!("the plan lacks `{want}`"));
        }
    }
    let pid = value(&out, "pid").to_string();
    let desktop_launch_pid = value(&out, "GIO_LAUNCHED_DESKTOP_FILE_PID").to_string();
    let exe = value(&out, "exe").to_string();
    let cmdline = value(&out, "cmdline").to_string();
    if pid.is_empty() || desktop_launch_pid != pid {
        problems.push(format!(
            "the wizard (pid {pid:?}) was not started by GLib's desktop-entry launcher \
             (GIO_LAUNCHED_DESKTOP_FILE_PID={desktop_launch_pid:?})"
        ));
    }
    if exe != "/usr/bin/forge-gui" || cmdline != "forge-gui" {
        problems.push(format!(
            "the wizard's process is not the entry's forge-gui: exe {exe:?}, cmdline {cmdline:?}"
        ));
    }
    if !value(&out, "still_running").is_empty() {
        problems.push("the wizard did not close itself after the walk (quit: true)".into());
    }
    let job_lines: Vec<String> = journal
        .lines()
        .filter(|l| l.contains("job started") || l.contains("job finished"))
        .map(String::from)
        .collect();
    let started = job_lines
        .iter()
        .any(|l| l.contains("job started") && l.contains("dry_run=true") && l.contains("/dev/vda"));
    let finished = job_lines
        .iter()
        .any(|l| l.contains("job finished") && l.contains("succeeded"));
    let activated_now = journal.contains("forge-daemon.service - FORGE installer service");
    let daemon_ok = journal.lines().any(|l| l == "ActiveState=active")
        && journal
            .lines()
            .any(|l| l == "BusName=org.intergenos.Forge1")
        && journal.contains("authorized by polkit action=org.intergenos.forge.install");
    if !daemon_ok {
        problems.push(
            "forge-daemon.service is not active on org.intergenos.Forge1, or polkit's \
             authorization of the install is not in its journal"
                .into(),
        );
    }
    if !started || !finished {
        problems.push(format!(
            "the daemon's journal lacks the dry-run job on /dev/vda started and succeeded: {job_lines:?}"
        ));
    }
    for pw in [USER_PW, SB_PW] {
        for (what, text) in [
            ("plan", plan),
            ("wizard output", &gui_log),
            ("journal", &journal),
        ] {
            if text.contains(pw) {
                problems.push(format!("a password reached the {what}"));
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}\n{}", problems.join("\n"), context());
    }
    Ok(GuiDryRun {
        screens,
        done_title,
        pid,
        desktop_launch_pid,
        activated_by_gui: activated_now,
        gtk_warnings: gui_log
            .lines()
            .filter(|l| l.contains("WARNING") || l.contains("CRITICAL"))
            .count(),
        exe,
        cmdline,
        job_lines,
        x_ready_s: seconds(&out, "x_ready"),
        gui_seen_s: seconds(&out, "gui_seen"),
        result_s: seconds(&out, "result"),
        elapsed: start.elapsed(),
    })
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
