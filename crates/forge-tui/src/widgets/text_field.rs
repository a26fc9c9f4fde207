//! A one-line text field: the value, a cursor (in characters), and whether
//! it is hidden (passwords show one `*` per character). Editing keys only;
//! focus and submission belong to the screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    value: String,
    /// Cursor position in characters.
    cursor: usize,
    pub hidden: bool,
}

impl TextField {
    pub fn new(value: &str) -> TextField {
        TextField {
            value: value.to_string(),
            cursor: value.chars().count(),
            hidden: false,
        }
    }

    pub fn hidden(value: &str) -> TextField {
        TextField {
            hidden: true,
            ..TextField::new(value)
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// Replaces the value (cursor at the end).
    pub fn set(&mut self, value: &str) {
        self.value = value.to_string();
        self.cursor = value.chars().count();
    }

    /// The text drawn: the value, or one `*` per character when hidden.
    pub fn shown(&self) -> String {
        if self.hidden {
            "*".repeat(self.value.chars().count())
        } else {
            self.value.clone()
        }
    }

    /// Cursor column within [`TextField::shown`] (in characters).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.value
            .char_indices()
            .nth(chars)
            .map_or(self.value.len(), |(i, _)| i)
    }

    /// Inserts text at the cursor (control characters dropped).
    pub fn insert(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            let at = self.byte_at(self.cursor);
            self.value.insert(at, c);
            self.cursor += 1;
        }
    }

    /// Handles an editing key; true when the key was an edit or cursor move
    /// (`changed` tells whether the value changed).
    pub fn key(&mut self, k: &KeyEvent) -> (bool, bool) {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Char('u') if ctrl => {
                let changed = !self.value.is_empty();
                self.set("");
                (true, changed)
            }
            KeyCode::Char(c) if !ctrl && !k.modifiers.contains(KeyModifiers::ALT) => {
                self.insert(&c.to_string());
                (true, true)
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
                (true, true)
            }
            KeyCode::Delete if self.cursor < self.value.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
                (true, true)
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                (true, false)
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.value.chars().count());
                (true, false)
            }
            KeyCode::Home => {
                self.cursor = 0;
                (true, false)
            }
            KeyCode::End => {
                self.cursor = self.value.chars().count();
                (true, false)
            }
            KeyCode::Backspace | KeyCode::Delete => (true, false),
            _ => (false, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_at_the_cursor() {
        let mut f = TextField::new("ac");
        f.key(&k(KeyCode::Left));
        f.key(&k(KeyCode::Char('b')));
        assert_eq!(f.value(), "abc");
        f.key(&k(KeyCode::End));
        f.key(&k(KeyCode::Backspace));
        assert_eq!(f.value(), "ab");
        f.insert("ä\nx");
        assert_eq!(f.value(), "abäx");
        assert_eq!(f.cursor(), 4);
    }

    #[test]
    fn hidden_fields_show_stars() {
        let mut f = TextField::hidden("");
        f.insert("geheim");
        assert_eq!(f.shown(), "******");
        assert_eq!(f.value(), "geheim");
    }
}
