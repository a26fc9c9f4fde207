//! Whether forge-tui's command line (`crates/forge-tui/src/cli.rs`) exists
//! in this checkout: `forge_tui_cli` is set when it does, so the generator
//! renders `forge-tui.1` from it, and builds without it otherwise.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(forge_tui_cli)");
    let tui = std::path::Path::new("../forge-tui/src/cli.rs");
    if tui.exists() {
        println!("cargo:rustc-cfg=forge_tui_cli");
        println!("cargo:rerun-if-changed=../forge-tui/src/cli.rs");
    } else {
        // A directory is watched recursively: a new forge-tui shows up.
        println!("cargo:rerun-if-changed=..");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
