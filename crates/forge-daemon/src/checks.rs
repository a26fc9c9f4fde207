//! Plan checks the daemon makes before it accepts anything: the same
//! forge-proto validation the frontends and `forgectl validate` run (the
//! daemon is the authority), as `(field, message)` pairs.

use forge_proto::i18n::tr;
use forge_proto::validate::{check_text, parse_plan, validate_io};
use forge_proto::{InstallIo, InstallPlan, Problem, SystemCatalog};

/// Parses and validates `yaml`: the plan when it parsed, and every problem
/// (exactly what `forge_proto::validate::check_text` reports).
pub fn plan_problems(yaml: &str) -> (Option<InstallPlan>, Vec<Problem>) {
    let problems = match SystemCatalog::load() {
        Ok(catalog) => check_text(yaml, &catalog),
        Err(e) => {
            tracing::error!("cannot load the system catalog: {e}");
            vec![Problem::new(
                "",
                tr("The installer cannot read the system's lists of locales, keyboards and time zones."),
            )]
        }
    };
    (parse_plan(yaml).ok(), problems)
}

/// Every problem of a plan and its `install_io` (never echoing a secret).
pub fn install_problems(yaml: &str, io: &InstallIo) -> (Option<InstallPlan>, Vec<Problem>) {
    let (plan, mut problems) = plan_problems(yaml);
    problems.extend(validate_io(io));
    (plan, problems)
}

/// The `InvalidPlan` error text: one `field: message` per line.
pub fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
