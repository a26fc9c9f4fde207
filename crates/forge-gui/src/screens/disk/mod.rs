//! The `disk` screen.

mod disk_page;

pub use disk_page::DiskPage;
