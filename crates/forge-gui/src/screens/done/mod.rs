//! The `done` screen.

mod done_page;

pub use done_page::DonePage;
