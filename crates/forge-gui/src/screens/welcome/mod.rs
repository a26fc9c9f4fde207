//! The `welcome` screen.

mod welcome_page;

pub use welcome_page::WelcomePage;
