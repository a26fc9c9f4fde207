//! `forge-gui-autopilot`: `forge-gui` with the test machinery (feature
//! `autopilot`): `FORGE_GUI_AUTOPILOT` and `FORGE_GUI_BENCH` work here,
//! and only here. Run by the GUI walks, the demo and the benchmarks.

fn main() -> std::process::ExitCode {
    forge_gui::run()
}
