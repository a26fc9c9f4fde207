//! A list of `(id, label)` entries with an optional search field: typed
//! characters filter by label or id (case-insensitive substring), the
//! highlight moves with the arrow keys, and `Enter` (or `Space` in a list
//! without search) selects the highlighted entry. Moving never selects.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::TextField;

#[derive(Debug, Clone, Default)]
pub struct SearchList {
    items: Vec<(String, String)>,
    pub search: Option<TextField>,
    /// Indices into `items` that match the search.
    shown: Vec<usize>,
    /// Position in `shown`.
    highlight: usize,
    /// The selected entry's id.
    selected: Option<String>,
}

/// What a key did to the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKey {
    /// Not a list key.
    Ignored,
    /// Moved or filtered.
    Moved,
    /// This id was selected.
    Selected(String),
}

impl SearchList {
    pub fn new(items: Vec<(String, String)>, searchable: bool) -> SearchList {
        let mut l = SearchList {
            items,
            search: searchable.then(TextField::default),
            ..SearchList::default()
        };
        l.filter();
        l
    }

    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// The entries matching the search, with whether each is highlighted
    /// and selected.
    pub fn visible(&self) -> impl Iterator<Item = (&str, &str, bool, bool)> + '_ {
        self.shown.iter().enumerate().map(move |(pos, &i)| {
            let (id, label) = &self.items[i];
            (
                id.as_str(),
                label.as_str(),
                pos == self.highlight,
                self.selected.as_deref() == Some(id.as_str()),
            )
        })
    }

    pub fn highlight(&self) -> usize {
        self.highlight
    }

    /// The id under the highlight.
    pub fn highlighted(&self) -> Option<&str> {
        self.shown
            .get(self.highlight)
            .map(|&i| self.items[i].0.as_str())
    }

    #[cfg(test)]
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// Marks `id` selected and moves the highlight onto it (when shown).
    pub fn select(&mut self, id: &str) {
        self.selected = Some(id.to_string());
        if let Some(pos) = self.shown.iter().position(|&i| self.items[i].0 == id) {
            self.highlight = pos;
        }
    }

    /// The label of `id`.
    pub fn label_of(&self, id: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, l)| l.as_str())
    }

    fn filter(&mut self) {
        let q = self
            .search
            .as_ref()
            .map(|s| s.value().to_lowercase())
            .unwrap_or_default();
        let keep = self.highlighted().map(str::to_string);
        self.shown = (0..self.items.len())
            .filter(|&i| {
                let (id, label) = &self.items[i];
                q.is_empty() || label.to_lowercase().contains(&q) || id.to_lowercase().contains(&q)
            })
            .collect();
        self.highlight = keep
            .and_then(|k| self.shown.iter().position(|&i| self.items[i].0 == k))
            .unwrap_or(0);
    }

    fn step(&mut self, by: isize) {
        if self.shown.is_empty() {
            return;
        }
        let last = self.shown.len() as isize - 1;
        self.highlight = (self.highlight as isize + by).clamp(0, last) as usize;
    }

    /// Handles a key while the list has the focus.
    pub fn key(&mut self, k: &KeyEvent) -> ListKey {
        match k.code {
            KeyCode::Up => self.step(-1),
            KeyCode::Down => self.step(1),
            KeyCode::PageUp => self.step(-10),
            KeyCode::PageDown => self.step(10),
            KeyCode::Home if self.search.is_none() => self.step(isize::MIN / 2),
            KeyCode::End if self.search.is_none() => self.step(isize::MAX / 2),
            KeyCode::Enter => return self.choose(),
            KeyCode::Char(' ') if self.search.is_none() => return self.choose(),
            _ => {
                let Some(s) = self.search.as_mut() else {
                    return ListKey::Ignored;
                };
                if k.modifiers.contains(KeyModifiers::CONTROL) && k.code != KeyCode::Char('u') {
                    return ListKey::Ignored;
                }
                let (handled, changed) = s.key(k);
                if !handled {
                    return ListKey::Ignored;
                }
                if changed {
                    self.filter();
                }
            }
        }
        ListKey::Moved
    }

    /// Pasted text goes into the search field.
    pub fn paste(&mut self, text: &str) {
        if let Some(s) = self.search.as_mut() {
            s.insert(text);
            self.filter();
        }
    }

    fn choose(&mut self) -> ListKey {
        match self.highlighted().map(str::to_string) {
            Some(id) => {
                self.selected = Some(id.clone());
                ListKey::Selected(id)
            }
            None => ListKey::Moved,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn zones() -> SearchList {
        let items = ["Europe/Berlin", "Europe/Paris", "Asia/Tokyo", "UTC"]
            .iter()
            .map(|z| (z.to_string(), z.replace('_', " ")))
            .collect();
        SearchList::new(items, true)
    }

    #[test]
    fn typing_filters_and_enter_selects() {
        let mut l = zones();
        for c in "tok".chars() {
            assert_eq!(l.key(&k(KeyCode::Char(c))), ListKey::Moved);
        }
        assert_eq!(l.len(), 1);
        assert_eq!(
            l.key(&k(KeyCode::Enter)),
            ListKey::Selected("Asia/Tokyo".into())
        );
        assert_eq!(l.selected(), Some("Asia/Tokyo"));
    }

    #[test]
    fn moving_does_not_select() {
        let mut l = zones();
        l.select("UTC");
        assert_eq!(l.highlighted(), Some("UTC"));
        l.key(&k(KeyCode::Up));
        assert_eq!(l.highlighted(), Some("Asia/Tokyo"));
        assert_eq!(l.selected(), Some("UTC"));
    }

    #[test]
    fn space_selects_only_without_search() {
        let mut plain = SearchList::new(vec![("a".into(), "A".into())], false);
        assert_eq!(
            plain.key(&k(KeyCode::Char(' '))),
            ListKey::Selected("a".into())
        );
        let mut l = zones();
        l.key(&k(KeyCode::Char(' ')));
        assert_eq!(
            l.search.as_ref().map(|s| s.value().to_string()),
            Some(" ".into())
        );
    }
}
