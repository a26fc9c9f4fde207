//! The `progress` screen.

mod progress_page;

pub use progress_page::{PhaseState, ProgressPage};
