//! Harness: a shell on a live VM's serial console (issue 13's end-to-end
//! tests). [`SessionVm::start`] boots FORGE's live ISO under QEMU (TCG) with
//! OVMF and Secure Boot (a variable store with the medium's key as MOK, e.g.
//! from `qemu::secure_boot_vars_with_mok`), the ISO as `scsi-cd` on
//! virtio-scsi and an extra empty, sparse virtio-blk disk of N GiB (the
//! guest's `/dev/vda`), and waits for the live session's marker
//! (`FORGE-LIVE-SESSION ...`, printed by the live user's autologin on ttyS0).
//!
//! Then [`SessionVm::run`] types a command into that login shell and reads
//! until a unique end line carrying its exit status. The shell is first
//! switched to one without line editing and without terminal echo
//! (`stty -echo`, `bash --noediting`, empty prompts, no pager), so the
//! console shows only what commands print. The end line is printed with
//! `printf '%s-%s %s\n' FORGE-END <n> $?`: the typed text never contains
//! `FORGE-END-<n> `, so even an echo cannot be mistaken for the end.
//!
//! QEMU is killed when the [`SessionVm`] is dropped (also on a panic). The
//! serial log is written to `<log_dir>/<name>.log` as it arrives (so it can
//! be followed with `tail -f`), QEMU's stderr appended at the end. The
//! process and its console (`process.rs`) and the command line's pieces
//! (`args.rs`) are the ones [`super::serial::SerialVm`] uses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::args;
use super::live::{classify, LiveOutcome};
use super::process::{Console, Read, Verdict};

/// The prefix of every command's end line.
pub const END_MARKER: &str = "FORGE-END";

/// What to boot.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    /// Short name: the log file is `<log_dir>/<name>.log`.
    pub name: String,
    pub iso: PathBuf,
    /// The Secure Boot variable store, used in place: what the guest writes
    /// (`mokutil --import`: MokNew) stays there for the next run.
    pub vars: PathBuf,
    /// The guest's `/dev/vda`: an existing raw image (see [`new_disk`]),
    /// kept after the run.
    pub disk: PathBuf,
    /// How long the boot may take up to the live-session marker.
    pub boot_timeout: Duration,
    pub log_dir: PathBuf,
}

/// A running live VM with its serial console. Dropping it kills QEMU and
/// saves the serial log.
pub struct SessionVm {
    /// The console, logged as it arrives (`tail -f` while the test runs).
    con: Console,
    /// Bytes of the console already consumed by the boot or earlier commands.
    consumed: usize,
    next_id: u64,
    marker: String,
    boot_time: Duration,
    log_file: PathBuf,
}

/// Where command `id`'s end line is in `text`: `(start of the end line,
/// index after it, exit status)`. The line is `FORGE-END-<id> <status>`
/// followed by a line break.
pub fn find_end(text: &str, id: u64) -> Option<(usize, usize, i32)> {
    let tag = format!("{END_MARKER}-{id} ");
    let mut from = 0;
    while let Some(i) = text[from..].find(&tag) {
        let start = from + i;
        let rest = &text[start + tag.len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let after = &rest[digits.len()..];
        if !digits.is_empty() && (after.starts_with('\n') || after.starts_with("\r\n")) {
            let nl = after.find('\n').unwrap_or(0) + 1;
            let end = start + tag.len() + digits.len() + nl;
            return Some((start, end, digits.parse().ok()?));
        }
        from = start + tag.len();
    }
    None
}

/// What a command printed: carriage returns dropped, surrounding blank
/// lines trimmed.
pub fn clean_output(s: &str) -> String {
    s.replace('\r', "").trim_matches('\n').to_string()
}

/// The line typed for command `id`: `cmd`, then the end line with `$?`.
pub fn command_line(cmd: &str, id: u64) -> String {
    format!("{cmd}\nprintf '%s-%s %s\\n' {END_MARKER} {id} $?\n")
}

/// Creates an empty sparse raw disk image of `gib` GiB at `path`.
pub fn new_disk(path: &Path, gib: u64) -> Result<()> {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(gib << 30))
        .with_context(|| format!("creating {}", path.display()))
}

fn qemu_command(spec: &SessionSpec) -> Result<Command> {
    let iso = args::drive_path(&spec.iso)?;
    args::drive_path(&spec.vars)?;
    let disk = args::drive_path(&spec.disk)?;
    let mut cmd = args::base(1536, false);
    args::uefi(&mut cmd, true, &spec.vars);
    args::scsi_cdrom(&mut cmd, iso);
    args::virtio_disk(&mut cmd, disk, None);
    Ok(cmd)
}

impl SessionVm {
    /// Boots `spec` and waits for the live-session marker, then prepares
    /// the shell (no echo, no line editing, empty prompts). Errors when
    /// QEMU cannot start or the session does not come up (with the outcome
    /// and the log's tail; the log is saved either way).
    pub fn start(spec: &SessionSpec) -> Result<SessionVm> {
        if !spec.iso.is_file() {
            bail!("no ISO at {}", spec.iso.display());
        }
        if !spec.disk.is_file() || !spec.vars.is_file() {
            bail!(
                "no disk image {} or variable store {}",
                spec.disk.display(),
                spec.vars.display()
            );
        }
        Self::boot(qemu_command(spec)?, spec)
    }

    /// [`start`](Self::start) with `cmd` as the machine.
    fn boot(cmd: Command, spec: &SessionSpec) -> Result<SessionVm> {
        std::fs::create_dir_all(&spec.log_dir)
            .with_context(|| format!("creating {}", spec.log_dir.display()))?;
        let log_file = spec.log_dir.join(format!("{}.log", spec.name));
        let mut vm = SessionVm {
            con: Console::start(cmd, true, Some(&log_file))?,
            consumed: 0,
            next_id: 1,
            marker: String::new(),
            boot_time: Duration::ZERO,
            log_file,
        };
        let deadline = vm.con.started() + spec.boot_timeout;
        let outcome = match vm.con.verdict(deadline, classify) {
            Verdict::Seen(o) => o,
            Verdict::Exited => LiveOutcome::Exited,
            Verdict::Timeout => LiveOutcome::Timeout,
        };
        vm.boot_time = vm.con.started().elapsed();
        let LiveOutcome::Session(line) = outcome else {
            bail!(
                "{}: no live session after {:.1?} ({outcome:?}); log {}; tail:\n{}",
                spec.name,
                vm.boot_time,
                vm.log_file.display(),
                vm.tail(3000)
            );
        };
        vm.marker = line;
        vm.consumed = vm.con.raw().len();
        // The shell prints its prompt after the marker; the first command
        // replaces it by a quiet one. Its own end line is read like any.
        vm.run(
            "stty -echo; export PS1= PS2= PROMPT_COMMAND= PAGER=cat SYSTEMD_PAGER= SYSTEMD_COLORS=0; exec bash --noediting --norc -i",
            Duration::from_secs(5),
        )
        .ok();
        let (status, _) = vm.run("stty -echo; true", Duration::from_secs(30))?;
        if status != 0 {
            bail!(
                "preparing the console shell failed; log {}",
                vm.log_file.display()
            );
        }
        Ok(vm)
    }

    /// The live session's marker line.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// Time from QEMU's start to the marker.
    pub fn boot_time(&self) -> Duration {
        self.boot_time
    }

    /// Where the serial log is saved (on drop).
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The last `max` bytes of the console so far.
    pub fn tail(&self, max: usize) -> String {
        let raw = self.con.raw();
        let from = raw.len().saturating_sub(max);
        String::from_utf8_lossy(&raw[from..]).into_owned()
    }

    /// Types `cmd` (one shell line or several) into the console shell and
    /// waits up to `timeout` for its end line: `(exit status, output)`.
    /// Errors on timeout or when QEMU exits.
    pub fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String)> {
        let id = self.next_id;
        self.next_id += 1;
        self.con.send(command_line(cmd, id).as_bytes())?;
        let (out, status) = self.read_until(
            timeout,
            &format!("`{cmd}` did not finish"),
            &format!("`{cmd}` ran"),
            |text| find_end(text, id),
        )?;
        Ok((status, out))
    }

    /// Reads the console until `find` locates what is awaited in the text
    /// not yet consumed: `(end of the output, end of what is consumed,
    /// a value)`. Returns the output (cleaned) and the value; errors with
    /// `late` (+ " within <timeout>") or "QEMU exited while `during`",
    /// and the console text since.
    fn read_until<T>(
        &mut self,
        timeout: Duration,
        late: &str,
        during: &str,
        find: impl Fn(&str) -> Option<(usize, usize, T)>,
    ) -> Result<(String, T)> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = String::from_utf8_lossy(&self.con.raw()[self.consumed..]).into_owned();
            if let Some((out_end, end, value)) = find(&text) {
                self.consumed += text[..end].len();
                return Ok((clean_output(&text[..out_end]), value));
            }
            if Instant::now() > deadline {
                bail!(
                    "{late} within {timeout:?}; console since:\n{}",
                    clean_output(&text)
                );
            }
            if self.con.read(deadline) == Read::Exited {
                bail!("QEMU exited while {during}; console since:\n{text}")
            }
        }
    }

    /// Types `text` as it is into the console (no line break added): an
    /// answer at a program's prompt, keys for a program reading the tty.
    pub fn send(&mut self, text: &str) -> Result<()> {
        self.con.send(text.as_bytes())
    }

    /// Waits up to `timeout` until the console shows `needle` (in what was
    /// not yet consumed by an earlier command or wait) and returns the text
    /// up to and including it, which is then consumed. Errors on timeout or
    /// when QEMU exits, with the console text since.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        let (text, ()) = self.read_until(
            timeout,
            &format!("{needle:?} did not appear"),
            &format!("waiting for {needle:?}"),
            |text| {
                let end = text.find(needle)? + needle.len();
                Some((end, end, ()))
            },
        )?;
        Ok(text)
    }

    /// Pulls the power: QEMU is killed at once (no shutdown in the guest),
    /// the serial log saved. What the guest wrote to the disk so far stays.
    pub fn power_off(self) {
        drop(self);
    }

    /// [`run`](Self::run), asserting exit status 0; returns the output.
    #[track_caller]
    pub fn ok(&mut self, cmd: &str, timeout: Duration) -> String {
        match self.run(cmd, timeout) {
            Ok((0, out)) => out,
            Ok((st, out)) => panic!("`{cmd}` exited with {st}:\n{out}"),
            Err(e) => panic!("{e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_line_carries_the_status_and_is_not_its_echo() {
        let typed = command_line("ls /x", 7);
        assert!(typed.starts_with("ls /x\n"));
        // An echo of the typed text is never the end line.
        assert_eq!(find_end(&typed.replace('\n', "\r\n"), 7), None);
        let console = format!("{}ls: cannot access '/x'\r\nFORGE-END-7 2\r\nrest", typed);
        let (start, end, status) = find_end(&console, 7).unwrap();
        assert_eq!(status, 2);
        assert_eq!(&console[end..], "rest");
        assert!(console[..start].ends_with("'/x'\r\n"));
    }

    #[test]
    fn another_commands_end_or_a_partial_line_does_not_count() {
        assert_eq!(find_end("FORGE-END-17 0\n", 1), None);
        assert_eq!(find_end("FORGE-END-1 0", 1), None);
        assert_eq!(find_end("FORGE-END-1 \n", 1), None);
        assert_eq!(
            find_end("FORGE-END-1 x\nFORGE-END-1 13\n", 1),
            Some((14, 29, 13))
        );
    }

    #[test]
    fn a_shell_on_a_console_runs_commands_answers_prompts_and_is_logged_as_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SessionSpec {
            name: "fake".into(),
            iso: "/l.iso".into(),
            vars: "/v.fd".into(),
            disk: "/d.img".into(),
            boot_timeout: Duration::from_secs(30),
            log_dir: dir.path().join("logs"),
        };
        // A "machine" whose console is a shell after a live-session marker.
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo booting; echo 'FORGE-LIVE-SESSION user=live target=x'; exec bash --norc",
        ]);
        let mut vm = SessionVm::boot(cmd, &spec).unwrap();
        assert_eq!(vm.marker(), "FORGE-LIVE-SESSION user=live target=x");
        let t = Duration::from_secs(20);
        assert_eq!(vm.run("echo hi; false", t).unwrap(), (1, "hi".to_string()));
        assert_eq!(vm.ok("printf 'a\\nb\\n'", t), "a\nb");
        vm.send("echo Password:; read x; echo got-$x\n").unwrap();
        assert_eq!(vm.wait_for("Password:", t).unwrap(), "Password:");
        vm.send("pw\n").unwrap();
        assert_eq!(vm.wait_for("got-pw", t).unwrap(), "got-pw");
        assert_eq!(vm.run("echo after", t).unwrap(), (0, "after".to_string()));
        let log = std::fs::read_to_string(vm.log_file()).unwrap();
        assert!(log.starts_with("booting\nFORGE-LIVE-SESSION"), "{log}");
        assert!(log.contains("got-pw\n"), "{log}");
        let file = vm.log_file().to_path_buf();
        let err = vm
            .wait_for("never", Duration::from_millis(300))
            .unwrap_err();
        assert!(format!("{err}").contains("did not appear"), "{err}");
        vm.power_off();
        let log = std::fs::read_to_string(file).unwrap();
        assert!(log.contains("after\nFORGE-END-"), "{log}");
    }

    #[test]
    fn the_command_line_is_the_one_the_live_session_always_used() {
        let spec = SessionSpec {
            name: "a".into(),
            iso: "/l.iso".into(),
            vars: "/v.fd".into(),
            disk: "/d.img".into(),
            boot_timeout: Duration::from_secs(1),
            log_dir: "/logs".into(),
        };
        assert_eq!(
            args::of(&qemu_command(&spec).unwrap()).join(" "),
            format!(
                "-accel tcg -m 1536 -smp 1 -nodefaults -display none -monitor none -serial stdio -no-reboot \
                 -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
                 -drive if=pflash,format=raw,unit=0,readonly=on,file={} \
                 -drive if=pflash,format=raw,unit=1,file=/v.fd \
                 -device virtio-scsi-pci,id=scsi0 \
                 -drive file=/l.iso,if=none,id=live,media=cdrom,readonly=on,format=raw \
                 -device scsi-cd,bus=scsi0.0,drive=live,bootindex=0 \
                 -drive file=/d.img,if=none,id=target,format=raw -device virtio-blk-pci,drive=target",
                super::super::OVMF_CODE_SECURE
            )
        );
    }

    #[test]
    fn output_loses_carriage_returns_and_blank_edges() {
        assert_eq!(clean_output("\r\n a\r\nb\r\n\r\n"), " a\nb");
    }
}
