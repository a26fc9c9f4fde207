//! The integrity dialog shown on `IntegrityFailed`, and the paste guard
//! that makes its phrase entry accept typed input only.

// Named like every screen file (`<screen>/<screen>.rs` + `.ui`).
#[allow(clippy::module_inception)]
mod integrity_dialog;
mod paste_guard;

pub use integrity_dialog::IntegrityDialog;
pub use paste_guard::PasteGuard;
