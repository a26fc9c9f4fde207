//! Compiles the `.ui` files, CSS and icons under `src/` into the GResource
//! bundle that `lib.rs` embeds, and records the development locale dir.

fn main() {
    glib_build_tools::compile_resources(
        &["src"],
        "src/resources.gresource.xml",
        "forge-gui.gresource",
    );
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // Compiled catalogs of a source checkout (scripts/compile-po.sh output).
    println!("cargo:rustc-env=FORGE_DEV_LOCALEDIR={manifest}/../../target/locale");
    println!("cargo:rerun-if-env-changed=FORGE_LOCALEDIR");
}
