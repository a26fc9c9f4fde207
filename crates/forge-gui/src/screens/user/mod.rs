//! The `user` screen.

mod user_page;

pub use user_page::UserPage;
