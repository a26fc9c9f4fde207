//! Harness: a QEMU machine driven over its serial console with expect/send
//! (issue 13, scenario 4: shim's MokManager, then the installed system).
//!
//! Unlike [`super::boot`] and [`super::session::SessionVm`], the machine may
//! reset (no `-no-reboot`): MokManager resets it after an enrollment and the
//! next boot is the one that matters. q35 with `smm=on`, OVMF with Secure
//! Boot (`OVMF_CODE_SECURE`, secure pflash), the variable store as pflash
//! unit 1 used IN PLACE (what the guest or MokManager writes stays there),
//! an optional ISO as `scsi-cd` on virtio-scsi (first in the boot order) and
//! an optional raw disk as virtio-blk (the guest's `/dev/vda`), written in
//! place.
//!
//! The firmware's console is a terminal stream (cursor moves, colours):
//! [`SerialVm::expect`] matches over the text with escape sequences
//! removed (a cursor position becomes a line break, other control bytes
//! but `\n` and `\t` are dropped), from the end of the previous match.
//! QEMU is killed when the [`SerialVm`] is dropped (also on a panic). The
//! raw serial log is written to `<log_dir>/<name>.log` as it arrives
//! (QEMU's stderr appended at the end), the stripped text to
//! `<log_dir>/<name>.txt` on drop. The process, its console and the
//! command line's pieces are shared with the other machines
//! (`process.rs`, `args.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::args;
use super::process::{Console, Read};

/// The ↓ key as a serial terminal sends it.
pub const KEY_DOWN: &[u8] = b"\x1b[B";
/// The Enter key.
pub const KEY_ENTER: &[u8] = b"\r";

/// What to start.
#[derive(Debug, Clone)]
pub struct SerialSpec {
    /// Short name: the logs are `<log_dir>/<name>.log` and `.txt`.
    pub name: String,
    /// The Secure Boot variable store, used in place.
    pub vars: PathBuf,
    /// A raw disk image as virtio-blk (written in place).
    pub disk: Option<PathBuf>,
    /// An ISO as CD-ROM, booted first.
    pub iso: Option<PathBuf>,
    pub memory_mib: u32,
    pub log_dir: PathBuf,
}

impl SerialSpec {
    /// A spec with 1536 MiB, no disk and no ISO.
    pub fn new(name: &str, vars: &Path, log_dir: &Path) -> SerialSpec {
        SerialSpec {
            name: name.to_string(),
            vars: vars.to_path_buf(),
            disk: None,
            iso: None,
            memory_mib: 1536,
            log_dir: log_dir.to_path_buf(),
        }
    }
}

/// A running machine and its console. Dropping it kills QEMU and saves the
/// logs.
pub struct SerialVm {
    con: Console,
    /// How much of the console is stripped into `text` (an unfinished
    /// escape sequence waits for the next chunk).
    stripped: usize,
    /// The stripped console text (bytes; matched as bytes).
    text: Vec<u8>,
    /// End of the previous match in `text`.
    consumed: usize,
    exited: bool,
    name: String,
    log_dir: PathBuf,
}

/// Removes terminal escape sequences from `input`: CSI (`ESC [` ... final
/// byte; a cursor position `H`/`f` becomes `\n`), OSC (up to BEL or
/// `ESC \`), two- and three-byte escapes (`ESC c`, `ESC ( B`), and control
/// bytes other than `\n` and `\t`. Returns the text and how many input
/// bytes were used: an unfinished sequence at the end is left for the next
/// call.
pub fn strip_terminal(input: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != 0x1b {
            if b >= 0x20 || b == b'\n' || b == b'\t' {
                out.push(b);
            }
            i += 1;
            continue;
        }
        let Some(&kind) = input.get(i + 1) else {
            return (out, i);
        };
        match kind {
            b'[' => {
                let mut j = i + 2;
                while j < input.len() && !(0x40..=0x7e).contains(&input[j]) {
                    j += 1;
                }
                let Some(&fin) = input.get(j) else {
                    return (out, i);
                };
                if fin == b'H' || fin == b'f' {
                    out.push(b'\n');
                }
                i = j + 1;
            }
            b']' => {
                let mut j = i + 2;
                loop {
                    match input.get(j) {
                        None => return (out, i),
                        Some(0x07) => break,
                        Some(0x1b) if input.get(j + 1) == Some(&b'\\') => {
                            j += 1;
                            break;
                        }
                        Some(0x1b) if j + 1 == input.len() => return (out, i),
                        _ => j += 1,
                    }
                }
                i = j + 1;
            }
            0x20..=0x2f => match input.get(i + 2) {
                None => return (out, i),
                Some(_) => i += 3,
            },
            _ => i += 2,
        }
    }
    (out, input.len())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The earliest match of any needle in `hay`: `(needle index, start, end)`.
pub fn earliest(hay: &[u8], needles: &[&str]) -> Option<(usize, usize, usize)> {
    needles
        .iter()
        .enumerate()
        .filter_map(|(k, n)| find(hay, n.as_bytes()).map(|p| (k, p, p + n.len())))
        .min_by_key(|&(k, p, _)| (p, k))
}

fn qemu_command(spec: &SerialSpec) -> Result<Command> {
    args::drive_path(&spec.vars)?;
    let disk = spec.disk.as_deref().map(args::drive_path).transpose()?;
    let iso = spec.iso.as_deref().map(args::drive_path).transpose()?;
    let mut cmd = args::base(spec.memory_mib, true);
    args::uefi(&mut cmd, true, &spec.vars);
    if let Some(iso) = iso {
        args::scsi_cdrom(&mut cmd, iso);
    }
    if let Some(disk) = disk {
        args::virtio_disk(&mut cmd, disk, Some(u32::from(iso.is_some())));
    }
    Ok(cmd)
}

impl SerialVm {
    /// Starts QEMU for `spec`; its console is read from then on.
    pub fn start(spec: &SerialSpec) -> Result<SerialVm> {
        for p in spec.disk.iter().chain(spec.iso.iter()).chain([&spec.vars]) {
            if !p.is_file() {
                bail!("{}: no such file", p.display());
            }
        }
        std::fs::create_dir_all(&spec.log_dir)
            .with_context(|| format!("creating {}", spec.log_dir.display()))?;
        let log_file = spec.log_dir.join(format!("{}.log", spec.name));
        let con = Console::start(qemu_command(spec)?, true, Some(&log_file))?;
        Ok(SerialVm {
            con,
            stripped: 0,
            text: Vec::new(),
            consumed: 0,
            exited: false,
            name: spec.name.clone(),
            log_dir: spec.log_dir.clone(),
        })
    }

    /// Strips the console up to `upto` into `text`.
    fn strip(&mut self, upto: usize) {
        let (out, used) = strip_terminal(&self.con.raw()[self.stripped..upto]);
        self.text.extend_from_slice(&out);
        self.stripped += used;
    }

    /// Reads the console until `deadline` (one chunk at most).
    fn read(&mut self, deadline: Instant) {
        match self.con.read(deadline) {
            Read::Data => self.strip(self.con.raw().len()),
            Read::Timeout => {}
            Read::Exited => self.exited = true,
        }
    }

    /// Waits up to `timeout` for the first of `needles` in the console text
    /// since the previous match: `(index of the needle, the text up to and
    /// including it)`. Errors on timeout or when QEMU exits, with the
    /// console's tail.
    pub fn expect(&mut self, needles: &[&str], timeout: Duration) -> Result<(usize, String)> {
        let deadline = Instant::now() + timeout;
        let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
        let mut from = self.consumed;
        loop {
            if let Some((k, _, end)) = earliest(&self.text[from..], needles) {
                let end = from + end;
                let seen = String::from_utf8_lossy(&self.text[self.consumed..end]).into_owned();
                self.consumed = end;
                return Ok((k, seen));
            }
            // Only new text (plus a needle's length) is searched next time.
            from = self.text.len().saturating_sub(longest).max(self.consumed);
            if self.exited {
                bail!(
                    "{}: QEMU exited before any of {needles:?}; console tail:\n{}",
                    self.name,
                    self.tail(3000)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: none of {needles:?} within {timeout:?}; console tail:\n{}",
                    self.name,
                    self.tail(3000)
                );
            }
            self.read(deadline);
        }
    }

    /// Sends `bytes` to the console as typed.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let name = &self.name;
        self.con
            .send(bytes)
            .with_context(|| format!("{name}: typing"))
    }

    /// Waits up to `timeout` for QEMU to exit by itself (e.g. the guest
    /// powered off), reading the console meanwhile.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.con.try_wait() {
                self.con.drain();
                self.strip(self.con.raw().len());
                return Ok(st);
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                bail!("{}: QEMU still running after {timeout:?}", self.name);
            };
            self.read(Instant::now() + left.min(Duration::from_millis(200)));
            if self.exited {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// The last `max` bytes of the stripped console text.
    pub fn tail(&self, max: usize) -> String {
        let from = self.text.len().saturating_sub(max);
        String::from_utf8_lossy(&self.text[from..]).into_owned()
    }

    /// Time since QEMU started.
    pub fn elapsed(&self) -> Duration {
        self.con.started().elapsed()
    }

    /// Where the raw serial log is written as it arrives (QEMU's stderr
    /// appended on drop).
    pub fn log_file(&self) -> PathBuf {
        self.log_dir.join(format!("{}.log", self.name))
    }
}

impl Drop for SerialVm {
    fn drop(&mut self) {
        let console_end = self.con.stop(); // then QEMU's stderr
        self.strip(console_end);
        let txt = self.log_dir.join(format!("{}.txt", self.name));
        if let Err(e) = std::fs::write(&txt, &self.text) {
            eprintln!("saving {}: {e}", txt.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_go_and_a_cursor_position_breaks_the_line() {
        let (out, used) = strip_terminal(b"\x1b[0m\x1b[37;40mEnroll\x1b[5;10HMOK\r\n\x1b(Bok");
        assert_eq!(out, b"Enroll\nMOK\nok");
        assert_eq!(used, 35);
        let (out, _) = strip_terminal(b"a\x1b]0;title\x07b\x1b]2;t\x1b\\c\x1bcd");
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn an_unfinished_sequence_waits_for_the_next_chunk() {
        let input = b"Pass\x1b[1;3";
        let (out, used) = strip_terminal(input);
        assert_eq!((out.as_slice(), used), (&b"Pass"[..], 4));
        let (out, used) = strip_terminal(b"\x1b[1;3Hword:");
        assert_eq!((out.as_slice(), used), (&b"\nword:"[..], 11));
        assert_eq!(strip_terminal(b"x\x1b").1, 1);
    }

    #[test]
    fn the_command_line_allows_resets_and_boots_the_cd_first() {
        let mut spec = SerialSpec::new("x", Path::new("/v.fd"), Path::new("/logs"));
        spec.disk = Some("/d.img".into());
        let head = format!(
            "-accel tcg -m 1536 -smp 1 -nodefaults -display none -monitor none -serial stdio \
             -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
             -drive if=pflash,format=raw,unit=0,readonly=on,file={} \
             -drive if=pflash,format=raw,unit=1,file=/v.fd",
            super::super::OVMF_CODE_SECURE
        );
        let disk =
            "-drive file=/d.img,if=none,id=target,format=raw -device virtio-blk-pci,drive=target";
        let line = |spec: &SerialSpec| args::of(&qemu_command(spec).unwrap()).join(" ");
        assert_eq!(line(&spec), format!("{head} {disk},bootindex=0"));
        spec.iso = Some("/l.iso".into());
        assert_eq!(
            line(&spec),
            format!(
                "{head} -device virtio-scsi-pci,id=scsi0 \
                 -drive file=/l.iso,if=none,id=live,media=cdrom,readonly=on,format=raw \
                 -device scsi-cd,bus=scsi0.0,drive=live,bootindex=0 {disk},bootindex=1"
            )
        );
        spec.iso = Some("/a,b.iso".into());
        assert!(qemu_command(&spec).is_err());
    }

    #[test]
    fn the_earliest_needle_wins_and_ties_go_to_the_first() {
        assert_eq!(
            earliest(b"..Reboot..Password", &["Password", "Reboot"]),
            Some((1, 2, 8))
        );
        assert_eq!(earliest(b"abc", &["x", "y"]), None);
        assert_eq!(earliest(b"Yes", &["Yes", "Y"]), Some((0, 0, 3)));
    }
}
