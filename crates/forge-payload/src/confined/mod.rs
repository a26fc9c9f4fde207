//! Confined file-system access: everything below a root directory (a
//! deployment root, the installed system's root) reached without ever
//! following a symlink out of it, in safe code (nix's wrappers, no
//! `unsafe`). One module for both users: the payload's extraction
//! ([`crate::deploy`]) and the daemon's writes into the target (fstab,
//! accounts, keys, logs).
//!
//! - [`at`]: one operation on one name in a directory descriptor
//!   (`openat` with `O_NOFOLLOW`, `mkdirat`, `fstatat` with
//!   `AT_SYMLINK_NOFOLLOW`, ...), for callers that keep descriptors.
//! - the functions here: a whole path under a root path, walked one
//!   component at a time from a descriptor of the root (`..` refused), files
//!   written to a temporary name and renamed into place.
//! - [`resolve_in_root`]: a path resolved the way the installed system sees
//!   it (symlinks followed but kept inside the root), for host tools that
//!   must be handed a path.

pub mod at;
mod path;
mod resolve;

pub use path::{
    copy_tree_owned, exists, lchown, mkdir_owned, open_dir, read_file, symlink, write_file,
    write_file_owned,
};
pub use resolve::resolve_in_root;
