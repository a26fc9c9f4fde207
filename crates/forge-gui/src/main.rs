//! `forge-gui`: the graphical FORGE installer. See `lib.rs`.

fn main() -> std::process::ExitCode {
    forge_gui::run()
}
