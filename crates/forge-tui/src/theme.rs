//! Colours, or none: `NO_COLOR` (any value) or `TERM=dumb`/unset gives a
//! monochrome theme that marks focus and problems with reverse video,
//! bold and text (`>`), never with colour alone.

use ratatui::style::{Color, Modifier, Style};

/// The styles every screen draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub mono: bool,
}

impl Theme {
    /// From the environment (`NO_COLOR`, `TERM`).
    pub fn from_env() -> Theme {
        Theme::from_vars(
            std::env::var("NO_COLOR").ok().as_deref(),
            std::env::var("TERM").ok().as_deref(),
        )
    }

    /// From the values of `NO_COLOR` and `TERM` (None: unset). `NO_COLOR`
    /// counts when set to anything non-empty (no-color.org).
    pub fn from_vars(no_color: Option<&str>, term: Option<&str>) -> Theme {
        let term = term.unwrap_or_default();
        Theme {
            mono: no_color.is_some_and(|v| !v.is_empty()) || term.is_empty() || term == "dumb",
        }
    }

    #[cfg(test)]
    pub fn colour() -> Theme {
        Theme { mono: false }
    }

    pub fn base(&self) -> Style {
        Style::default()
    }

    pub fn title(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.mono {
            s
        } else {
            s.fg(Color::Cyan)
        }
    }

    /// The focused item.
    pub fn focus(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// A disabled item (in-use disk, disabled button).
    pub fn disabled(&self) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(Color::DarkGray)
        }
    }

    pub fn problem(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.mono {
            s
        } else {
            s.fg(Color::Red)
        }
    }

    pub fn warning(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Yellow)
        }
    }

    pub fn good(&self) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(Color::Green)
        }
    }

    pub fn dim(&self) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Theme;
    use ratatui::style::Color;

    #[test]
    fn no_color_or_a_dumb_terminal_is_monochrome() {
        assert!(!Theme::from_vars(None, Some("xterm-256color")).mono);
        assert!(Theme::from_vars(Some("1"), Some("xterm-256color")).mono);
        assert!(!Theme::from_vars(Some(""), Some("xterm")).mono);
        assert!(Theme::from_vars(None, Some("dumb")).mono);
        assert!(Theme::from_vars(None, None).mono);
        let mono = Theme { mono: true };
        for s in [
            mono.title(),
            mono.problem(),
            mono.warning(),
            mono.good(),
            mono.disabled(),
        ] {
            assert!(s.fg.is_none() || s.fg == Some(Color::Reset), "{s:?}");
        }
    }
}
