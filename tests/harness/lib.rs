//! Shared harness for FORGE's cross-crate suites (the suites themselves are
//! in `tests/tests/`). Each module brings up one real part and tears it down
//! on drop, also when a test fails.

pub mod bus;
pub mod client;
pub mod cmd;
pub mod daemon;
pub mod env;
pub mod hostile_yaml;
pub mod polkit;
pub mod qemu;
pub mod skip;
pub mod test_payload;
pub mod tmux;
pub mod users;
