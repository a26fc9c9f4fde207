//! [`Body`]: builds a screen's body as lines (wrapped text, labelled
//! fields, check boxes, lists) and remembers where the terminal cursor goes
//! (on the focused item), then draws it scrolled so that the cursor is in
//! view. Every text goes through [`crate::bidi::visual`].

use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::{SearchList, TextField};
use crate::bidi::visual;
use crate::theme::Theme;

/// Width of the label column of fields and choices: the longest label
/// ("Confirm Secure Boot password", 28) and a space.
const LABEL_COL: usize = 29;

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to `max` cells (an ellipsis marks the cut).
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if width(&out) + width(c.encode_utf8(&mut [0; 4])) + 1 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Word-wraps `text` to `max` cells per line (each `\n` starts a line).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(10);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let sep = usize::from(!line.is_empty());
            if !line.is_empty() && width(&line) + sep + width(word) > max {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            if width(word) > max {
                line.push_str(&fit(word, max));
            } else {
                line.push_str(word);
            }
        }
        out.push(line);
    }
    out
}

/// A screen body under construction.
pub struct Body {
    pub lines: Vec<Line<'static>>,
    pub width: usize,
    pub theme: Theme,
    /// (column, line) of the terminal cursor.
    pub cursor: Option<(usize, usize)>,
    /// The last line of the focused item (a list below its search field),
    /// kept in view with the cursor.
    pub keep: Option<usize>,
}

impl Body {
    pub fn new(width: u16, theme: Theme) -> Body {
        Body {
            lines: Vec::new(),
            width: usize::from(width),
            theme,
            cursor: None,
            keep: None,
        }
    }

    pub fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    /// Wrapped text in one style.
    pub fn text(&mut self, text: &str, style: Style) {
        for l in wrap(text, self.width) {
            self.lines.push(Line::styled(visual(&l), style));
        }
    }

    /// Wrapped text with a first-line prefix (e.g. "! ") and hanging indent.
    pub fn prefixed(&mut self, prefix: &str, text: &str, style: Style) {
        let indent = " ".repeat(width(prefix));
        for (i, l) in wrap(text, self.width.saturating_sub(width(prefix)))
            .into_iter()
            .enumerate()
        {
            let p = if i == 0 { prefix } else { indent.as_str() };
            self.lines
                .push(Line::styled(format!("{}{}", visual(p), visual(&l)), style));
        }
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        self.lines
            .push(Line::styled(visual(text), self.theme.title()));
    }

    /// Places the cursor on the line about to be pushed, at `col`.
    fn cursor_next(&mut self, col: usize) {
        self.cursor = Some((col, self.lines.len()));
    }

    /// `label: [value   ]`, the field box as wide as the body allows.
    /// The label column is [`LABEL_COL`] wide, a label at most one less,
    /// so a space always separates it from the box.
    pub fn field(&mut self, label: &str, f: &TextField, focused: bool, bad: bool) {
        let label = fit(&visual(label), LABEL_COL - 1);
        let pad = LABEL_COL.saturating_sub(width(&label));
        let boxw = self.width.saturating_sub(LABEL_COL + 4).max(8);
        let shown = f.shown();
        // Scroll the field's text so the cursor stays inside the box.
        let skip = f.cursor().saturating_sub(boxw - 1);
        let visible: String = shown.chars().skip(skip).take(boxw).collect();
        let visible = if f.hidden { visible } else { visual(&visible) };
        let fill = boxw.saturating_sub(width(&visible));
        let mark = if focused { ">" } else { " " };
        let style = if focused {
            self.theme.focus()
        } else {
            self.theme.base()
        };
        let label_style = if bad {
            self.theme.problem()
        } else {
            self.theme.base()
        };
        if focused {
            let before: String = shown.chars().skip(skip).take(f.cursor() - skip).collect();
            self.cursor_next(2 + LABEL_COL + 1 + width(&before));
        }
        self.lines.push(Line::from(vec![
            Span::raw(format!("{mark} ")),
            Span::styled(format!("{label}{}", " ".repeat(pad)), label_style),
            Span::raw("["),
            Span::styled(format!("{visible}{}", " ".repeat(fill)), style),
            Span::raw("]"),
        ]));
    }

    /// `[x] label`.
    pub fn checkbox(&mut self, label: &str, on: bool, focused: bool, locked: bool) {
        let mark = if focused { ">" } else { " " };
        let bx = if on { "[x]" } else { "[ ]" };
        let style = if focused {
            self.theme.focus()
        } else if locked {
            self.theme.disabled()
        } else {
            self.theme.base()
        };
        if focused {
            self.cursor_next(3);
        }
        self.lines.push(Line::from(vec![
            Span::raw(format!("{mark} ")),
            Span::styled(format!("{bx} {}", visual(label)), style),
        ]));
    }

    /// `label: < value >` (Space cycles).
    pub fn choice(&mut self, label: &str, value: &str, focused: bool) {
        let label = fit(&visual(label), LABEL_COL - 1);
        let pad = LABEL_COL.saturating_sub(width(&label));
        let mark = if focused { ">" } else { " " };
        let style = if focused {
            self.theme.focus()
        } else {
            self.theme.base()
        };
        if focused {
            self.cursor_next(2 + LABEL_COL + 2);
        }
        self.lines.push(Line::from(vec![
            Span::raw(format!("{mark} {label}{}", " ".repeat(pad))),
            Span::styled(format!("< {} >", visual(value)), style),
        ]));
    }

    /// A list of `height` rows around the highlight; `note(id)` adds a dim
    /// suffix, `disabled(id)` greys an entry. `(*)` marks the selection.
    pub fn list(
        &mut self,
        l: &SearchList,
        search_label: &str,
        focused: bool,
        height: usize,
        disabled: &dyn Fn(&str) -> bool,
    ) {
        if let Some(s) = &l.search {
            let mut f = s.clone();
            f.hidden = false;
            self.field(search_label, &f, focused, false);
        }
        let first = l.highlight().saturating_sub(height.saturating_sub(1) / 2);
        let first = first.min(l.len().saturating_sub(height));
        let rows: Vec<_> = l.visible().skip(first).take(height).collect();
        let n = rows.len();
        for (id, label, hl, sel) in rows {
            let off = disabled(id);
            let radio = if sel { "(*)" } else { "( )" };
            let text = fit(
                &format!("{radio} {}", visual(label)),
                self.width.saturating_sub(4),
            );
            let style = if hl && focused {
                self.theme.focus()
            } else if off {
                self.theme.disabled()
            } else {
                self.theme.base()
            };
            let mark = if hl && focused { ">" } else { " " };
            if hl && focused && l.search.is_none() {
                self.cursor_next(3);
            }
            self.lines.push(Line::from(vec![
                Span::raw(format!("{mark}  ")),
                Span::styled(text, style),
            ]));
        }
        let want = if l.is_empty() { 1 } else { height.min(l.len()) };
        for _ in n..want {
            self.blank();
        }
        if focused {
            self.keep = Some(self.lines.len().saturating_sub(1));
        }
    }

    /// Draws the body into `area`, scrolled so that the cursor line shows,
    /// and puts the terminal cursor there.
    pub fn render(self, f: &mut Frame, area: Rect) {
        let h = usize::from(area.height);
        let scroll = match self.cursor {
            Some((_, line)) => {
                let need = self.keep.unwrap_or(line).max(line);
                if need >= h {
                    (need + 1 - h).min(line)
                } else {
                    0
                }
            }
            None => 0,
        };
        if let Some((col, line)) = self.cursor {
            let x = area.x
                + u16::try_from(col)
                    .unwrap_or(0)
                    .min(area.width.saturating_sub(1));
            let y = area.y + u16::try_from(line - scroll).unwrap_or(0);
            f.set_cursor_position(Position::new(x, y));
        }
        let p = Paragraph::new(self.lines).scroll((u16::try_from(scroll).unwrap_or(0), 0));
        f.render_widget(p, area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_words() {
        let w = wrap("one two three four", 10);
        assert_eq!(w, ["one two", "three four"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
    }

    #[test]
    fn fits_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
