//! The `confirm` screen.

mod confirm_page;

pub use confirm_page::ConfirmPage;
