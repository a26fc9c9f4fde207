//! Plan checks the daemon makes before it accepts anything: the same
//! forge-proto validation the frontends and `forgectl validate` run (the
//! daemon is the authority), as `(field, message)` pairs. Used by the
//! D-Bus side (`ValidatePlan`, `Install`) and again by the validate phase.

use forge_proto::i18n::tr;
use forge_proto::validate::{check_plan, validate_io, validate_io_for, validate_plan};
use forge_proto::BootMode;
use forge_proto::{InstallIo, InstallPlan, Problem, SystemCatalog};

/// The system's locales, keyboards and time zones, or the translated
/// sentence saying they cannot be read and the detail (already logged).
fn catalog() -> Result<SystemCatalog, (String, String)> {
    SystemCatalog::load().map_err(|e| {
        tracing::error!("cannot load the system catalog: {e}");
        (
            tr("The installer cannot read the system's lists of locales, keyboards and time zones."),
            e.to_string(),
        )
    })
}

/// Parses and validates `yaml`: the plan when it parsed, and every problem
/// (exactly what `forge_proto::validate::check_text` reports).
pub fn plan_problems(yaml: &str) -> (Option<InstallPlan>, Vec<Problem>) {
    // One parse per call (issue 9, item 1): the plan and its problems together.
    match catalog() {
        Ok(catalog) => check_plan(yaml, &catalog),
        Err((message, _)) => (None, vec![Problem::new("", message)]),
    }
}

/// Every problem of an accepted (parsed) plan and its `install_io`, checked
/// once more; `Err` is (summary, detail) when the catalog cannot be read.
pub fn recheck(plan: &InstallPlan, io: &InstallIo) -> Result<Vec<Problem>, (String, String)> {
    let mut problems = validate_io_for(io, boot(plan));
    problems.extend(validate_plan(plan, &catalog()?));
    Ok(problems)
}

/// Every problem of a plan and its `install_io` (never echoing a secret).
pub fn install_problems(yaml: &str, io: &InstallIo) -> (Option<InstallPlan>, Vec<Problem>) {
    let (plan, mut problems) = plan_problems(yaml);
    problems.extend(match &plan {
        Some(p) => validate_io_for(io, boot(p)),
        None => validate_io(io),
    });
    (plan, problems)
}

/// The plan's boot mode (`auto` when it names none the daemon knows; a bad
/// value is a plan problem of its own): an EFI install needs the Secure
/// Boot password (issue 9, item 14).
fn boot(plan: &InstallPlan) -> BootMode {
    plan.boot_mode().unwrap_or(BootMode::Auto)
}

/// The `InvalidPlan` error text: one `field: message` per line.
pub fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
