//! Makes the integrity phrase typed input only. A terminal delivers pasted
//! text in one of two ways, and both are refused:
//!
//! - as a bracketed paste (the terminal wraps it in `ESC[200~ … ESC[201~`,
//!   which crossterm turns into one `Event::Paste`): Ctrl-Shift-V, middle
//!   click and the terminal's "Paste" menu all arrive this way while
//!   bracketed paste is on, which the installer turns on;
//! - as a burst of keys, when the terminal or a multiplexer does not bracket
//!   it: [`BURST`] or more printable characters in one read of the terminal
//!   (see `input`). A person's keystrokes arrive one per read; an on-screen
//!   keyboard or an input method commits one character per key as well.
//!
//! A refused batch is dropped whole (not even its Enter counts), so a
//! pasted "phrase⏎" cannot submit itself.

use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

/// Printable characters in one read from which input counts as a burst.
pub const BURST: usize = 3;

/// Why a batch of input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A bracketed paste.
    Paste,
    /// Too many characters in one read to be typed.
    Burst,
}

/// The printable character a key event types, if any (no Ctrl or Alt).
pub fn typed_char(ev: &Event) -> Option<char> {
    let Event::Key(k) = ev else { return None };
    if k.kind == KeyEventKind::Release {
        return None;
    }
    if k.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SUPER)
    {
        return None;
    }
    match k.code {
        KeyCode::Char(c) if !c.is_control() => Some(c),
        _ => None,
    }
}

/// The verdict on one batch of terminal input meant for the phrase field:
/// `None` when every event in it may be handled as typing.
pub fn judge(batch: &[Event]) -> Option<Refusal> {
    if batch.iter().any(|e| matches!(e, Event::Paste(_))) {
        return Some(Refusal::Paste);
    }
    let typed = batch.iter().filter(|e| typed_char(e).is_some()).count();
    (typed >= BURST).then_some(Refusal::Burst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEvent, KeyEventState};

    fn key(c: char) -> Event {
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    fn typed(s: &str) -> Vec<Event> {
        s.chars().map(key).collect()
    }

    #[test]
    fn one_key_per_read_is_typing() {
        for c in "I understand".chars() {
            assert_eq!(judge(&[key(c)]), None);
        }
        // Two keys caught in one read (fast typing) still pass.
        assert_eq!(judge(&typed("ab")), None);
        // Shifted letters are typing too.
        let shifted = Event::Key(KeyEvent::new(KeyCode::Char('I'), KeyModifiers::SHIFT));
        assert_eq!(judge(&[shifted]), None);
    }

    #[test]
    fn a_bracketed_paste_is_refused() {
        assert_eq!(judge(&[Event::Paste("x".into())]), Some(Refusal::Paste));
        // Even mixed with typing.
        let mut b = typed("a");
        b.push(Event::Paste("I accept".into()));
        assert_eq!(judge(&b), Some(Refusal::Paste));
    }

    #[test]
    fn a_burst_is_refused() {
        assert_eq!(judge(&typed("abc")), Some(Refusal::Burst));
        assert_eq!(judge(&typed("I accept the risk")), Some(Refusal::Burst));
        // Control keys in the batch do not hide it.
        let mut b = typed("ab");
        b.push(Event::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        b.push(key('c'));
        assert_eq!(judge(&b), Some(Refusal::Burst));
    }

    #[test]
    fn keys_that_type_nothing_never_count() {
        let ctrl = Event::Key(KeyEvent::new(KeyCode::Char('v'), KeyModifiers::CONTROL));
        let release = Event::Key(KeyEvent {
            code: KeyCode::Char('a'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        });
        let enter = Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!(typed_char(&ctrl), None);
        assert_eq!(typed_char(&release), None);
        let b = vec![
            ctrl.clone(),
            ctrl,
            release,
            enter.clone(),
            enter,
            Event::FocusGained,
        ];
        assert_eq!(judge(&b), None);
    }
}
