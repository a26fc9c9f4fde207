//! po/forge.pot is current (scripts/update-pot.sh --check).

use crate::common::*;

pub fn t_pot_current() -> Result<(), Failed> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("scripts/update-pot.sh");
    if !script.exists() {
        return skip("scripts/update-pot.sh missing");
    }
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("--check")
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    check(
        out.status.success(),
        format!("{}", String::from_utf8_lossy(&out.stderr)),
    )
}
