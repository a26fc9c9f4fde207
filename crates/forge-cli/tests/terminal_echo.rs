//! `forgectl install` at its password prompt (echo off) on a real
//! pseudo-terminal: Ctrl-C or SIGTERM ends it and the terminal has its echo
//! back (`stty -a` afterwards says `echo`, not `-echo`).
//!
//! The pty is python3's `pty` module (python3 is part of the test
//! environment); no daemon is needed, the prompt comes before connecting.

use std::path::PathBuf;
use std::process::Command;

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[path = "../../../tests/harness/skip.rs"]
mod skip;

const FORGECTL: &str = env!("CARGO_BIN_EXE_forgectl");

/// Runs forgectl under a pty from a shell that survives the signal, waits
/// until the prompt has turned echo off, sends `key` (bytes typed) or the
/// signal `sig` to forgectl, and prints the shell's output, which ends with
/// forgectl's exit status and `stty -a` of the same terminal.
const DRIVER: &str = r#"
import os, pty, sys, time, termios, signal
exe, plan, how = sys.argv[1], sys.argv[2], sys.argv[3]
script = ('"$0" install "$1" --disk /dev/null </dev/tty & '
          'echo "PID=$!"; wait $!; echo "STATUS=$?"; stty -a; echo END')
if how == 'ctrl-c':
    # Foreground (same process group) so that the tty's ^C reaches it.
    script = ('trap "echo trapped" INT; echo "PID=$$"; "$0" install "$1" --disk /dev/null; '
              'echo "STATUS=$?"; stty -a; echo END')
pid, fd = pty.fork()
if pid == 0:
    os.environ['LC_ALL'] = 'C.UTF-8'
    os.environ['LANGUAGE'] = ''
    os.execv('/bin/sh', ['sh', '-c', script, exe, plan])
out = b''
def pump(until, secs):
    global out
    end = time.time() + secs
    while until not in out and time.time() < end:
        import select
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
pump(b'password', 20)
if b'password' not in out:
    print('NO PROMPT', out.decode(errors='replace')); sys.exit(3)
end = time.time() + 10
while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < end:
    time.sleep(0.05)
if termios.tcgetattr(fd)[3] & termios.ECHO:
    print('ECHO NEVER OFF', out.decode(errors='replace')); sys.exit(3)
time.sleep(0.2)
if how == 'ctrl-c':
    os.write(fd, b'\x03')
else:
    # SIGTERM to forgectl itself (a background child of the shell).
    import re
    child = int(re.search(rb'PID=(\d+)', out).group(1))
    os.kill(child, signal.SIGTERM)
pump(b'END', 20)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
"#;

fn run(how: &str) -> Option<String> {
    let plan = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/examples/install.yaml");
    let out = match Command::new("python3")
        .args(["-c", DRIVER, FORGECTL, plan.to_str().unwrap(), how])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            skip::skip(format!("python3 is needed for the pty: {e}"));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pty driver failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(text)
}

/// The `echo` flag of the last `stty -a` in `out`: `Some(true)` for `echo`.
fn echo_flag(out: &str) -> Option<bool> {
    out.split_whitespace().rev().find_map(|w| match w {
        "echo" => Some(true),
        "-echo" => Some(false),
        _ => None,
    })
}

#[test]
fn ctrl_c_at_the_password_prompt_restores_echo() {
    let Some(out) = run("ctrl-c") else { return };
    assert!(
        out.contains("STATUS=130"),
        "forgectl did not end by SIGINT: {out}"
    );
    assert_eq!(
        echo_flag(&out),
        Some(true),
        "echo left off after Ctrl-C: {out}"
    );
}

#[test]
fn sigterm_at_the_password_prompt_restores_echo() {
    let Some(out) = run("term") else { return };
    assert!(
        out.contains("STATUS=143"),
        "forgectl did not end by SIGTERM: {out}"
    );
    assert_eq!(
        echo_flag(&out),
        Some(true),
        "echo left off after SIGTERM: {out}"
    );
}
