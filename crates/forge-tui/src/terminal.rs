//! The terminal as the installer leaves it: [`TermGuard`] switches to raw
//! mode, the alternate screen and bracketed paste, and restores all of it
//! (cursor shown) when dropped, when the process panics (a panic hook that
//! restores first, then runs the previous hook), and around
//! [`TermGuard::suspend`] (the text polkit agent asks its password on the
//! plain terminal). SIGTERM and SIGHUP end the app loop, which drops the
//! guard (see `runner`).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};

/// Holds the terminal in the installer's mode; restores it on drop.
pub struct TermGuard {
    /// True while raw mode and the alternate screen are on. Shared with the
    /// panic hook, which restores only an active terminal.
    active: Arc<AtomicBool>,
}

/// Puts the terminal back: bracketed paste off, main screen, cursor shown,
/// cooked mode. Errors are ignored (after SIGHUP there is no terminal).
fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)
}

impl TermGuard {
    /// Enters raw mode, the alternate screen and bracketed paste, and
    /// installs the panic hook.
    pub fn enter() -> io::Result<TermGuard> {
        let active = Arc::new(AtomicBool::new(false));
        let hook_active = active.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if hook_active.swap(false, Ordering::SeqCst) {
                restore();
            }
            previous(info);
        }));
        if let Err(e) = enter() {
            restore();
            return Err(e);
        }
        active.store(true, Ordering::SeqCst);
        Ok(TermGuard { active })
    }

    /// Gives the terminal back as it was (cooked mode, main screen) until
    /// [`TermGuard::resume`]; the caller must stop reading input meanwhile.
    pub fn suspend(&mut self) {
        if self.active.swap(false, Ordering::SeqCst) {
            restore();
        }
    }

    /// Takes the terminal again after [`TermGuard::suspend`].
    pub fn resume(&mut self) -> io::Result<()> {
        if !self.active.load(Ordering::SeqCst) {
            enter()?;
            self.active.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

impl Drop for TermGuard {
    fn drop(&mut self) {
        if self.active.swap(false, Ordering::SeqCst) {
            restore();
        }
    }
}
