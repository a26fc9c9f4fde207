//! Driving the real `forge-tui` binary in tmux ([`forge_tests::tmux`]) as a
//! person does, by the keys and texts of docs/tui.md: Tab until the
//! terminal cursor (which forge-tui keeps on the focused item) stands on a
//! label, type, `Ctrl-N` for Next, wait for the next screen's title. Every
//! screen passed is saved as text under `<target>/tui-screens/`.
//! Shared by tests/tests/tui_walk.rs and tests/tests/plan_bytes.rs.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use forge_tests::daemon::built_binary;
use forge_tests::env::ForgeEnv;
use forge_tests::tmux::{Pane, Tmux, TmuxOptions};
use forge_tests::users::TestUser;

/// The binary under test.
pub const TUI: &str = "forge-tui";
/// How long a screen may take to appear (the daemon lists disks and groups).
pub const SCREEN: Duration = Duration::from_secs(30);
/// Pause between the characters of a typed phrase (docs/tui.md: >= 30 ms).
pub const KEY_GAP: Duration = Duration::from_millis(40);

/// The eight step titles (English, docs/tui.md).
pub const WELCOME: &str = "Welcome to InterGenOS";
pub const LANGUAGE: &str = "Language and Region";
pub const DISK: &str = "Installation Disk";
pub const USERS: &str = "Users";
pub const SOFTWARE: &str = "Software to Install";
pub const CONFIRM: &str = "Ready to Install";
pub const PROGRESS: &str = "Installing InterGenOS";
pub const DONE_OK: &str = "Installation Complete";
pub const DONE_FAILED: &str = "Installation Failed";
pub const INTEGRITY: &str = "Packages Failed Verification";
pub const PASTE_REFUSED: &str = "Pasting is not allowed here. Type the phrase.";
pub const NOT_AUTHORIZED: &str = "Not authorized";
pub const NEXT_DISABLED: &str = "Next is disabled: ";

/// Why the walks cannot run here, if they cannot.
pub fn tui_skip() -> Option<String> {
    if let Some(why) = forge_tests::env::skip_reason() {
        return Some(why);
    }
    if let Some(why) = forge_tests::tmux::skip_reason() {
        return Some(why);
    }
    if built_binary(TUI).is_err() {
        return Some(format!(
            "{TUI} is not built; run `cargo build -p forge-tui`"
        ));
    }
    None
}

/// `<target>/tui-screens/`.
pub fn screens_dir() -> PathBuf {
    forge_tests::test_payload::target_dir().join("tui-screens")
}

/// A directory the test user can read and write (its HOME, saved plans).
pub fn shared_dir(prefix: &str) -> Result<tempfile::TempDir> {
    let d = tempfile::Builder::new().prefix(prefix).tempdir()?;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777))?;
    Ok(d)
}

/// The choices a walk makes (the same ones plan_bytes gives the GUI).
#[derive(Debug, Clone)]
pub struct Choices {
    pub disk: PathBuf,
    /// "bios" | "efi" | "auto".
    pub boot: &'static str,
    pub full_name: &'static str,
    pub password: &'static str,
    pub hostname: &'static str,
    pub trial_run: bool,
    /// Language step: `Some(locale, layout, variant, time zone)` chosen by
    /// typing into each searchable list, `None` keeps the defaults.
    pub region: Option<Region>,
}

/// Choices of the language step (ids, as in install.yaml).
#[derive(Debug, Clone, Copy)]
pub struct Region {
    pub locale: &'static str,
    pub layout: &'static str,
    pub variant: &'static str,
    /// What to type into the variant search so that the first match is
    /// `variant` (the search matches ids and labels: "nodeadkeys" would
    /// find "mac_nodeadkeys" first).
    pub variant_search: &'static str,
    pub timezone: &'static str,
}

/// Whether `line` names the device `dev` (`/dev/vda`) as a whole word: the
/// disk line shows it followed by `,`, a blank or nothing, never by more of
/// a name (`/dev/vdab`, `/dev/vda1`).
pub fn names_device(line: &str, dev: &str) -> bool {
    line.match_indices(dev).any(|(i, _)| {
        line[i + dev.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// One forge-tui in one terminal: a [`Tmux`] on this machine, as `user`
/// against a [`ForgeEnv`]'s bus ([`Walk::start`]), or any [`Pane`], e.g. a
/// tmux inside a VM ([`Walk::with_pane`]).
pub struct Walk<'a, P: Pane = Tmux> {
    pub t: P,
    /// How long a screen may take to appear ([`SCREEN`] by default; more
    /// in an emulated VM).
    pub screen: Duration,
    /// The daemon's log, added to a failed wait's error.
    log: Option<DaemonLog<'a, P>>,
    scenario: String,
    shots_dir: PathBuf,
    shots: usize,
    _home: Option<tempfile::TempDir>,
}

/// Reads the daemon's log (the host's [`ForgeEnv`], or e.g. the VM's
/// journal through the pane's shell).
pub type DaemonLog<'a, P> = Box<dyn Fn(&P) -> String + 'a>;

/// The environment forge-tui runs with.
pub fn tui_env(env: &ForgeEnv, home: &Path) -> Vec<(String, String)> {
    let mut v = vec![
        (
            "DBUS_SYSTEM_BUS_ADDRESS".into(),
            env.bus.address().to_string(),
        ),
        ("HOME".into(), home.display().to_string()),
        ("XDG_RUNTIME_DIR".into(), home.display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("RUST_BACKTRACE".into(), "1".into()),
    ];
    if let Ok(d) = std::env::var("FORGE_LOCALEDIR") {
        v.push(("FORGE_LOCALEDIR".into(), d));
    }
    v
}

impl<'a> Walk<'a, Tmux> {
    /// Starts `forge-tui ARGS` as `user` in a `size` terminal. With
    /// `shell`, starts `sh` instead (the caller types the command).
    pub fn start(
        env: &'a ForgeEnv,
        user: &TestUser,
        scenario: &str,
        args: &[&str],
        size: (u16, u16),
    ) -> Result<Walk<'a, Tmux>> {
        let bin = built_binary(TUI)?;
        let mut argv = vec![bin.display().to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        Self::start_argv(env, user, scenario, &argv, size, &[])
    }

    pub fn start_argv(
        env: &'a ForgeEnv,
        user: &TestUser,
        scenario: &str,
        argv: &[String],
        size: (u16, u16),
        extra_env: &[(&str, &str)],
    ) -> Result<Walk<'a, Tmux>> {
        let home = shared_dir("forge-tui-home-")?;
        let mut vars = tui_env(env, home.path());
        vars.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let opts = TmuxOptions {
            width: size.0,
            height: size.1,
            env: vars,
            user: Some((user.uid, user.gid)),
            ..TmuxOptions::default()
        };
        let t = Tmux::start(argv, &opts)?;
        let mut w = Walk::with_pane(
            t,
            scenario,
            screens_dir(),
            Some(Box::new(|_: &Tmux| env.daemon.log())),
        );
        w._home = Some(home);
        Ok(w)
    }
}

impl<'a, P: Pane> Walk<'a, P> {
    /// A walk over `t`, whose program is already started; screens are saved
    /// under `shots_dir` as `<scenario>-<NN>-<name>.txt`; `log`, if any,
    /// reads the daemon's log for failure messages.
    pub fn with_pane(
        t: P,
        scenario: &str,
        shots_dir: PathBuf,
        log: Option<DaemonLog<'a, P>>,
    ) -> Walk<'a, P> {
        Walk {
            t,
            screen: SCREEN,
            log,
            scenario: scenario.to_string(),
            shots_dir,
            shots: 0,
            _home: None,
        }
    }

    /// Saves the screen as `<shots dir>/<scenario>-<NN>-<name>.txt` (the
    /// shots dir of [`Walk::start`] is `<target>/tui-screens/`).
    pub fn shot(&mut self, name: &str) -> Result<PathBuf> {
        self.shots += 1;
        let file = format!("{}-{:02}-{name}", self.scenario, self.shots);
        self.t.save_capture(&self.shots_dir, &file)
    }

    /// Adds the daemon's log tail to an error.
    fn with_daemon<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| {
            let Some(read) = &self.log else {
                return e;
            };
            let log = read(&self.t);
            let mut from = log.len().saturating_sub(3000);
            while !log.is_char_boundary(from) {
                from += 1;
            }
            e.context(format!(
                "---- forge-daemon log (tail) ----\n{}",
                &log[from..]
            ))
        })
    }

    /// Waits for `text` anywhere on the screen.
    pub fn wait(&self, text: &str, timeout: Duration) -> Result<String> {
        self.with_daemon(self.t.wait_for(text, timeout))
    }

    /// Waits until the title line (line 2) is `title`.
    pub fn title(&self, title: &str) -> Result<String> {
        self.with_daemon(self.t.wait_until(
            &format!("the screen titled {title:?}"),
            self.screen,
            &|s| {
                s.lines()
                    .take(3)
                    .any(|l| l.trim() == title || l.contains(title))
            },
        ))
    }

    /// The text of the line the terminal cursor is on.
    pub fn cursor_line(&self) -> Result<String> {
        self.t.cursor_line()
    }

    /// Whether the focused item (the line forge-tui marks with `>` in
    /// column 0, where it also puts the terminal cursor) shows `label`.
    pub fn focused_on(&self, label: &str) -> Result<bool> {
        let (screen, (_, y)) = self.t.screen_and_cursor()?;
        if screen
            .lines()
            .any(|l| l.trim_start().starts_with('>') && l.contains(label))
        {
            return Ok(true);
        }
        Ok(screen
            .lines()
            .nth(y as usize)
            .is_some_and(|l| l.contains(label)))
    }

    /// Presses Tab until the focused item shows `label` (at most 25 times,
    /// then fails showing the screen).
    pub fn focus(&self, label: &str) -> Result<()> {
        for _ in 0..25 {
            if self.focused_on(label)? {
                return Ok(());
            }
            self.t.send_keys(&["Tab"])?;
            std::thread::sleep(Duration::from_millis(60));
        }
        bail!(
            "Tab never focused {label:?}; the screen:\n{}",
            forge_tests::tmux::framed(&self.t.capture()?)
        )
    }

    /// In the focused list: presses Down (then Up) until the highlighted
    /// entry shows `entry`.
    pub fn highlight(&self, entry: &str, max: usize) -> Result<()> {
        for key in ["Down", "Up"] {
            for _ in 0..max {
                if self.focused_on(entry)? {
                    return Ok(());
                }
                self.t.send_keys(&[key])?;
                std::thread::sleep(Duration::from_millis(40));
            }
        }
        bail!(
            "no list entry {entry:?} highlighted; the screen:\n{}",
            forge_tests::tmux::framed(&self.t.capture()?)
        )
    }

    /// Focuses the text field labelled `label`, empties it and types `text`.
    pub fn fill(&self, label: &str, text: &str) -> Result<()> {
        self.focus(label)?;
        self.t.send_keys(&["C-u"])?;
        self.t.type_text(text)?;
        std::thread::sleep(Duration::from_millis(100));
        Ok(())
    }

    /// Ctrl-N and waits for the screen `title`; on a timeout the error
    /// shows the problem line (Next disabled).
    pub fn next(&self, title: &str) -> Result<String> {
        self.t.send_keys(&["C-n"])?;
        self.title(title)
    }

    /// Types `text` one key at a time (the phrase field refuses bursts).
    pub fn type_slowly(&self, text: &str) -> Result<()> {
        self.t.type_slowly(text, KEY_GAP)
    }

    /// Walks welcome → confirm with `c`, saving each screen; leaves the
    /// walk on the confirm screen with the boxes ticked as `c` says.
    pub fn walk_to_confirm(&mut self, c: &Choices) -> Result<()> {
        self.walk_to_confirm_with(c, None)
    }

    /// [`Walk::walk_to_confirm`], also filling the Secure Boot password
    /// fields (shown for EFI installs) with `secure_boot_password`.
    pub fn walk_to_confirm_with(
        &mut self,
        c: &Choices,
        secure_boot_password: Option<&str>,
    ) -> Result<()> {
        self.title(WELCOME)?;
        self.shot("welcome")?;
        self.next(LANGUAGE)?;
        if let Some(r) = c.region {
            self.choose_region(&r)?;
        }
        self.shot("language")?;
        self.next(DISK)?;
        self.choose_disk(&c.disk)?;
        self.choose_boot(c.boot)?;
        self.shot("disk")?;
        self.next(USERS)?;
        self.fill("Full name", c.full_name)?;
        self.fill("Password", c.password)?;
        self.fill("Confirm password", c.password)?;
        if let Some(pw) = secure_boot_password {
            // Tab goes forward: the first field found is the first one.
            self.fill("Secure Boot password", pw)?;
            self.fill("Confirm Secure Boot password", pw)?;
        }
        self.fill("Computer name", c.hostname)?;
        self.shot("users")?;
        self.next(SOFTWARE)?;
        self.shot("software")?;
        let screen = self.next(CONFIRM)?;
        // --save-plan may leave out what only an install needs.
        if c.trial_run || screen.contains("Trial run") {
            self.set_box("Trial run", c.trial_run)?;
        }
        if screen.contains("I understand") {
            self.set_box("I understand", true)?;
        }
        self.shot("confirm")?;
        Ok(())
    }

    /// On the language screen (focus on its first list): types each search
    /// and selects the first match with Enter, checking each heading.
    pub fn choose_region(&self, r: &Region) -> Result<()> {
        let pick = |filter: &str, heading: &str, want: &str| -> Result<()> {
            self.t.send_keys(&["C-u"])?;
            self.t.type_text(filter)?;
            std::thread::sleep(Duration::from_millis(150));
            self.t.send_keys(&["Enter"])?;
            self.t
                .wait_until(&format!("{heading} {want}"), self.screen, &|s| {
                    s.lines()
                        .any(|l| l.trim_start().starts_with(heading) && l.contains(want))
                })?;
            Ok(())
        };
        pick(r.locale, "Language:", r.locale)?;
        self.t.send_keys(&["Tab"])?;
        let layout = format!("({})", r.layout);
        pick(&layout, "Keyboard layout:", &layout)?;
        self.t.send_keys(&["Tab"])?;
        if !r.variant.is_empty() {
            self.t.send_keys(&["C-u"])?;
            self.t.type_text(r.variant_search)?;
            std::thread::sleep(Duration::from_millis(150));
            self.t.send_keys(&["Enter"])?;
            self.t
                .wait_until("a keyboard variant chosen", self.screen, &|s| {
                    s.lines().any(|l| {
                        l.trim_start().starts_with("Keyboard variant:") && !l.contains("Default")
                    })
                })?;
        }
        self.t.send_keys(&["Tab", "Tab"])?;
        let zone = r.timezone.replace('_', " ");
        pick(r.timezone, "Time Zone:", &zone)?;
        Ok(())
    }

    /// On the disk screen: highlights and selects `disk`, an image (shown
    /// by its full path, matched by its file name, which may be all that
    /// fits) or a device (`/dev/vda`, matched as a whole word: not
    /// `/dev/vdab`).
    pub fn choose_disk(&self, disk: &Path) -> Result<()> {
        let device = disk.starts_with("/dev");
        let name = if device {
            disk.display().to_string()
        } else {
            disk.file_name()
                .context("disk has no file name")?
                .to_string_lossy()
                .into_owned()
        };
        let line_has = |l: &str| {
            if device {
                names_device(l, &name)
            } else {
                l.contains(&name)
            }
        };
        self.t
            .wait_until(&format!("{name:?} listed"), self.screen, &|s| {
                s.lines().any(line_has)
            })?;
        self.highlight(&name, 20)?;
        self.t.send_keys(&["Enter"])?;
        self.t.wait_until("the disk selected", self.screen, &|s| {
            s.lines().any(|l| line_has(l) && l.contains("(*)"))
        })?;
        Ok(())
    }

    /// Boot mode: Space on the boot item cycles Automatic / UEFI / BIOS.
    pub fn choose_boot(&self, boot: &str) -> Result<()> {
        // The value is drawn as `< BIOS (legacy) >`; "Automatic (BIOS
        // (legacy), detected)" must not count as BIOS.
        let want = match boot {
            "bios" => "< BIOS",
            "efi" => "< UEFI",
            _ => "< Automatic",
        };
        self.focus("Boot")?;
        for _ in 0..4 {
            if self.cursor_line()?.contains(want) {
                return Ok(());
            }
            self.t.send_keys(&["Space"])?;
            std::thread::sleep(Duration::from_millis(60));
        }
        bail!(
            "boot mode {want} not reached; the screen:\n{}",
            forge_tests::tmux::framed(&self.t.capture()?)
        )
    }

    /// Ticks (or unticks) the check box labelled `label`.
    pub fn set_box(&self, label: &str, on: bool) -> Result<()> {
        self.focus(label)?;
        let ticked = |l: &str| l.contains("[x]") || l.contains("[X]");
        if ticked(&self.cursor_line()?) != on {
            self.t.send_keys(&["Space"])?;
            let want = on;
            self.t
                .wait_until(&format!("{label} ticked = {on}"), self.screen, &|s| {
                    s.lines().any(|l| l.contains(label) && ticked(l) == want)
                })?;
        }
        Ok(())
    }

    /// The final screen's title, once progress reached done.
    pub fn wait_done(&self, timeout: Duration) -> Result<(bool, String)> {
        let (i, s) = self.with_daemon(self.t.wait_for_any(&[DONE_OK, DONE_FAILED], timeout))?;
        Ok((i == 0, s))
    }
}
