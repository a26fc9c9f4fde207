//! The eight screens, one module each. A screen module has its `State`
//! (kept in [`crate::app::App`]), `render` (into a [`crate::widgets::draw::Body`])
//! and `key` (the focused item's keys; true when handled). The rules and
//! messages are the wizard model's and the GUI's (same msgids).

pub mod confirm;
pub mod disk;
pub mod done;
pub mod keyboard_locale;
pub mod labels;
pub mod packages;
pub mod progress;
pub mod user;
pub mod welcome;
