//! Plain data the wizard shows: disk and package-group descriptions (as the
//! daemon's `ListDisks` / `ListPackageGroups` return them) and the events of
//! a running job. They are the wire types of `forge_proto::wire`, defined
//! once for the daemon and every frontend; the screens take them as values,
//! so they can be tested with injected data.

pub use forge_proto::wire::{DiskInfo, GroupInfo, JobEvent, Mismatch};
