//! Skipping a test that cannot run here, and FORGE's strict mode.
//!
//! A test that lacks a tool, root, a download or a device calls [`skip`]
//! with the reason and returns: normally that prints `SKIP: <reason>` and
//! the test passes; with `FORGE_TEST_STRICT=1` (as `.ci/run` sets it) it
//! panics with the reason, so a strict run cannot pass by skipping.
//!
//! This file depends on std only. The harness exports it as
//! `forge_tests::skip`; the crates' own tests, which do not depend on the
//! harness, include this same file with `#[path]` (one definition of what a
//! skip is, no test machinery in a product crate).

// Included by several test crates, each using part of it.
#![allow(dead_code)]

/// The environment variable that turns every skip into a failure.
pub const STRICT_VAR: &str = "FORGE_TEST_STRICT";

/// Whether strict mode is on (`FORGE_TEST_STRICT=1`).
pub fn strict() -> bool {
    std::env::var_os(STRICT_VAR).is_some_and(|v| v == "1")
}

/// Reports that the calling test cannot run here, for `reason`: prints
/// `SKIP: <reason>` (the caller then returns), or panics with the reason in
/// strict mode.
#[track_caller]
pub fn skip(reason: impl std::fmt::Display) {
    if strict() {
        panic!("SKIP under {STRICT_VAR}=1: {reason}");
    }
    eprintln!("SKIP: {reason}");
}
