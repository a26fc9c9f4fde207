//! Hostile YAML shared by the suites that send it: forge-proto's own tests
//! (to the validator) and the harness suites (to the daemon over the bus).
//!
//! This file depends on std only. The harness exports it as
//! `forge_tests::hostile_yaml`; forge-proto's tests, which do not depend on
//! the harness, include this same file with `#[path]` (one definition of the
//! bomb, no test machinery in a product crate).

/// The alias bomb of issue 9: one anchored list of 16384 zeros, then a list
/// of aliases to it, 64 KiB in all (~1.8×10⁸ values once expanded).
pub fn alias_bomb() -> String {
    let mut text = String::from("a: &a [");
    text.push_str(&vec!["0"; 16384].join(","));
    text.push_str("]\nb: [");
    while text.len() < 64 * 1024 - 8 {
        text.push_str("*a,");
    }
    text.push_str("*a]\n");
    text
}
