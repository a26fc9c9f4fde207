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
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let term = std::env::var("TERM").unwrap_or_default();
        Theme {
            mono: no_color || term.is_empty() || term == "dumb",
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
