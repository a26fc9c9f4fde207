//! Test support for this crate's and other crates' tests: real keys, real
//! signatures, real archives (including deliberately malformed ones). Not
//! mocks. Helpers panic with a message on failure; they are for tests only.
//!
//! Compiled only with the cargo feature `testkit` (off by default): the
//! tests, the test harness and the demo turn it on, so no shipped binary
//! (forge-daemon, forgectl) carries it. One module per concern: [`keys`],
//! [`archive`], [`payload`], [`gpg`]; everything is re-exported here.

pub mod archive;
pub mod gpg;
pub mod keys;
pub mod payload;

pub use archive::{info, make_package, write_raw_archive, RawEntry, FIXED_MTIME};
pub use gpg::Gpg;
pub use keys::{
    generate_key, new_cert, read_cert, read_cert_bytes, revoke_cert, sign_file, write_cert,
};
pub use payload::{
    entry_for, sample_payload, write_signed, write_signed_raw_index, write_signed_valid,
    SamplePayload,
};
