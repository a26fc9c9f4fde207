//! Scenario 3 of issue 13, inside the live VM: a second, non-admin user
//! `bob`, in a logind session of his own, runs `forgectl install` onto
//! /dev/vda. The default policy applies to him (the live rule names only
//! the live user), so polkit wants an administrator (`auth_admin_keep`;
//! Debian's polkitd 122, 50-default.rules: the `sudo` group). forgectl starts
//! `pkttyagent` for its own process (stdin is a terminal, no display), which
//! asks on bob's terminal. A wrong administrator password ends in
//! `org.intergenos.Forge1.Error.NotAuthorized`, a non-zero exit and an
//! untouched /dev/vda (its first and last MiB hashed before and after);
//! the right one starts the install, and [`non_admin_forgectl`] returns
//! once forgectl reports the `packages` phase.
//!
//! Set-up: `bob` (not in `sudo`), the live user added to `sudo` with
//! `admin_pw` as password (`chpasswd`), so it is the one administrator and
//! pkttyagent asks for its password without a choice of identity. The
//! plan and the three secrets are files bob alone reads (forgectl then asks
//! nothing itself: only the agent reads the terminal).
//!
//! bob's session: `systemd-run --pty --wait -p PAMName=login -p User=bob`
//! from the console shell (through `sudo -n`): pam_systemd registers a
//! logind session for bob (seatless, so logind calls it active), the pty is
//! forwarded to the serial console, where the test reads the agent's
//! prompt and types the passwords. Each run ends with an end line of its
//! own carrying systemd-run's exit status (the service's).
//!
//! When this returns `Ok`, bob's install is still running in the console's
//! foreground: the caller's next step is to pull the power (scenario 6);
//! no further `vm.run` works until the install ends.

use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use forge_proto::Phase;
use forge_tests::qemu::session::SessionVm;

use super::prop;

const SHORT: Duration = Duration::from_secs(60);
/// bob's session (user manager start-up), forgectl's connection and the
/// daemon's polkit check, up to the agent's prompt (TCG).
const TO_PROMPT: Duration = Duration::from_secs(180);
/// PAM's failure delay, polkit's answer, forgectl's exit.
const TO_REFUSAL: Duration = Duration::from_secs(120);

/// Where bob's files are (mode 0700, his).
const DIR: &str = "/tmp/forge-bob";
/// The wrong administrator password typed first.
const WRONG_PW: &str = "not-the-admin-password";

/// What the scenario saw, for the caller's log.
#[derive(Debug, Clone)]
pub struct AuthzReport {
    /// bob's logind session as loginctl showed it inside his session.
    pub session: String,
    /// The console from bob's first forgectl to its refusal, ending with
    /// its end line and exit status (`AUTHZ-END-1-<status>`).
    pub refused: String,
    /// The console from the second forgectl to the packages phase.
    pub started: String,
}

/// Runs the scenario (see the module header). `plan` is an install plan
/// for /dev/vda (YAML, without single quotes); `admin_pw` becomes the live
/// user's password. `install_timeout` bounds the wait from the right
/// password to the `packages` phase.
pub fn non_admin_forgectl(
    vm: &mut SessionVm,
    admin_pw: &str,
    plan: &str,
    install_timeout: Duration,
) -> Result<AuthzReport> {
    ensure!(
        !admin_pw.contains('\'') && !plan.contains('\''),
        "the admin password and the plan go into single quotes"
    );
    set_up(vm, admin_pw, plan)?;
    let disk_before = disk_digest(vm)?;

    // 1. The wrong password.
    send_bob_install(vm, 1)?;
    let (session, prompt) = wait_prompt(vm)?;
    ensure!(
        prop(&session, "Name") == "bob",
        "bob's forgectl does not run in a logind session of bob's:\n{session}"
    );
    type_password(vm, WRONG_PW)?;
    let (status, after) = wait_end(vm, 1, TO_REFUSAL)?;
    let refused = format!("{prompt}{after}{status}");
    ensure!(
        status != 0 && refused.contains("org.intergenos.Forge1.Error.NotAuthorized"),
        "a wrong admin password: expected NotAuthorized and a non-zero exit, got exit {status}:\n{refused}"
    );
    let disk_after = disk_digest(vm)?;
    ensure!(
        disk_before == disk_after,
        "/dev/vda changed although polkit refused:\nbefore {disk_before}\nafter  {disk_after}"
    );

    // 2. The right password: the install starts.
    send_bob_install(vm, 2)?;
    let (_, prompt) = wait_prompt(vm)?;
    type_password(vm, admin_pw)?;
    let packages = format!(
        "[{}/{}] {}",
        Phase::Packages.index() + 1,
        Phase::ALL.len(),
        Phase::Packages.label()
    );
    let started = match vm.wait_for(&packages, install_timeout) {
        Ok(text) => format!("{prompt}{text}"),
        Err(e) => bail!("the right admin password: the install did not reach {packages:?}: {e:#}"),
    };
    ensure!(
        !started.contains("NotAuthorized"),
        "the right admin password was refused:\n{started}"
    );
    Ok(AuthzReport {
        session,
        refused,
        started,
    })
}

/// bob, the live user as the one administrator, bob's files (in a
/// subshell: `set -e` must not end the console's login shell).
fn set_up(vm: &mut SessionVm, admin_pw: &str, plan: &str) -> Result<()> {
    let script = format!(
        "(set -e; me=$(id -un); \
         id bob >/dev/null 2>&1 || sudo -n useradd -m -s /bin/bash -U bob; \
         sudo -n usermod -aG sudo \"$me\"; \
         printf '%s:%s\\n' \"$me\" '{admin_pw}' | sudo -n chpasswd; \
         sudo -n install -d -o bob -g bob -m 0700 {DIR}; \
         printf '%s' '{plan}' | sudo -n tee {DIR}/plan.yaml >/dev/null; \
         for f in root user sb; do printf 'Forge-bob-pw-1\\n' | sudo -n tee {DIR}/$f.pw >/dev/null; done; \
         sudo -n chown bob:bob {DIR}/plan.yaml {DIR}/root.pw {DIR}/user.pw {DIR}/sb.pw; \
         sudo -n chmod 0600 {DIR}/plan.yaml {DIR}/root.pw {DIR}/user.pw {DIR}/sb.pw; \
         echo \"bob: $(id -nG bob)\"; echo \"admins: $(getent group sudo)\"; \
         sudo -n ls /usr/share/polkit-1/rules.d/ /etc/polkit-1/rules.d/ || true; \
         ls -l /usr/lib/polkit-1/polkit-agent-helper-1 \"$(command -v pkttyagent)\")"
    );
    let (status, out) = vm.run(&script, SHORT)?;
    ensure!(status == 0, "setting up bob (exit {status}):\n{out}");
    let bob_groups = out
        .lines()
        .find_map(|l| l.strip_prefix("bob: "))
        .unwrap_or_default();
    ensure!(
        !bob_groups.split_whitespace().any(|g| g == "sudo"),
        "bob must not be an administrator: {out}"
    );
    Ok(())
}

/// SHA-256 of /dev/vda's first and last MiB (the partition table and its
/// backup, the start of a first file system).
fn disk_digest(vm: &mut SessionVm) -> Result<String> {
    let (status, out) = vm.run(
        "sudo -n sh -c 'head -c 1048576 /dev/vda | sha256sum; \
         tail -c 1048576 /dev/vda | sha256sum' | cut -d' ' -f1 | tr '\\n' ' '",
        SHORT,
    )?;
    ensure!(status == 0, "hashing /dev/vda (exit {status}): {out}");
    Ok(out.trim().to_string())
}

/// Starts bob's `forgectl install` in his own logind session, the pty on
/// the console; run `n` ends with `AUTHZ-END-<n>-<status>`.
fn send_bob_install(vm: &mut SessionVm, n: u32) -> Result<()> {
    let forgectl = format!(
        "forgectl install --disk /dev/vda --root-password-file {DIR}/root.pw \
         --user-password-file {DIR}/user.pw --secure-boot-password-file {DIR}/sb.pw \
         {DIR}/plan.yaml"
    );
    // The session as logind sees it, then forgectl (stdin: the pty). The
    // quotes keep the typed line from containing the needles.
    let inner = format!(
        "loginctl --no-pager show-session \"$XDG_SESSION_ID\" -p Name -p Active -p Class -p Type; \
         echo AUTHZ-SESSION-\"SHOWN\"; exec {forgectl}"
    );
    let line = format!(
        "sudo -n systemd-run --quiet --pty --wait --collect -p PAMName=login -p User=bob \
         -p WorkingDirectory={DIR} -E LANG=C.UTF-8 -E SYSTEMD_PAGER=cat -E PAGER=cat \
         /bin/sh -c '{inner}'; \
         printf 'AUTHZ-END-%s-%s\\n' {n} $?\n"
    );
    vm.send(&line)
}

/// Waits for bob's session line and then pkttyagent's prompt: (the
/// session's properties, the console text up to the prompt).
fn wait_prompt(vm: &mut SessionVm) -> Result<(String, String)> {
    let session = vm
        .wait_for("AUTHZ-SESSION-SHOWN", TO_PROMPT)
        .context("bob's session did not start")?;
    let mut text = vm
        .wait_for("AUTHENTICATING FOR org.intergenos.forge.install", TO_PROMPT)
        .context("pkttyagent did not start an authentication for the install")?;
    text.push_str(&vm.wait_for("Password:", SHORT)?);
    Ok((session, text))
}

/// Types a password at the agent's prompt (after a moment, so that the
/// agent has turned echo off).
fn type_password(vm: &mut SessionVm, pw: &str) -> Result<()> {
    std::thread::sleep(Duration::from_secs(1));
    vm.send(&format!("{pw}\n"))
}

/// Waits for run `n`'s end line: (its exit status, the console text).
fn wait_end(vm: &mut SessionVm, n: u32, timeout: Duration) -> Result<(i32, String)> {
    let mark = format!("AUTHZ-END-{n}-");
    let text = vm.wait_for(&mark, timeout)?;
    let rest = vm.wait_for("\n", SHORT)?;
    let status = rest
        .trim()
        .parse()
        .with_context(|| format!("the end line's status {rest:?}"))?;
    Ok((status, text))
}
