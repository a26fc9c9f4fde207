//! The wizard's screens, one module (folder) each, every screen one GObject
//! type with its `.ui` template beside it. Every step page implements
//! [`ForgeStep`] (`complete`, which enables Next, and `enter()`).

pub mod confirm;
pub mod disk;
pub mod done;
pub mod integrity_dialog;
pub mod keyboard_locale;
pub mod packages;
pub mod problem_label;
pub mod progress;
pub mod step;
pub mod user;
pub mod welcome;

pub use step::{ForgeStep, ForgeStepExt, ForgeStepImpl};
