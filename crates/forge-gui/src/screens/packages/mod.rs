//! The `packages` screen.

mod packages_page;

pub use packages_page::PackagesPage;
