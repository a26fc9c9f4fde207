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

pub mod at;
mod path;

pub use path::{
    copy_tree_owned, exists, lchown, mkdir_owned, open_dir, read_file, symlink, write_file,
    write_file_owned,
};
