//! Validation of an install plan and its `install_io`: every problem at once,
//! as (field path, translated message) pairs. The same code runs in the
//! frontends (early feedback) and in the daemon (the authority).
//!
//! - [`parse_plan`]: text to [`InstallPlan`]; not YAML is a
//!   [`ParseError::Syntax`] with line and column, YAML that is not a plan is
//!   [`ParseError::Invalid`] listing every structural problem.
//! - [`validate_plan`]: a parsed plan against the system lists.
//! - [`validate_io`]: the target disk and the passwords (never echoed).
//! - [`validate_text`] / [`check_text`]: both steps at once, for the daemon's
//!   `ValidatePlan` and the frontends.
//!
//! The structural walk lives in `validate/structure.rs`, the per-field rules
//! (usable on their own for early feedback in a frontend) in
//! [`rules`].

mod anchors;
pub mod rules;
mod structure;

use crate::catalog::SystemCatalog;
use crate::i18n::trf;
use crate::install_io::InstallIo;
use crate::plan::InstallPlan;

pub use rules::{
    MAX_HOSTNAME_LEN, MAX_LABEL_LEN, MAX_PASSWORD_BYTES, MAX_USER_NAME_LEN, MIN_PASSWORD_LEN,
};

/// The field path used for problems of the document as a whole (not a
/// mapping, more than one YAML document, not YAML at all).
pub const DOCUMENT_FIELD: &str = "document";

/// One problem: the field path (`user.name`, `keyboard.layout`,
/// `package_groups[2]`, `install_io.user_password`) and a translated message.
/// Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why a plan text could not become a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not YAML at all: the parser's message and where (1-based; 0 when the
    /// parser could not say).
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// YAML, but not a plan: wrong types, unknown keys, missing fields, wrong
    /// version. Every structural problem, in canonical field order.
    Invalid(Vec<Problem>),
}

impl ParseError {
    /// The error as problems (a syntax error becomes one problem on
    /// [`DOCUMENT_FIELD`]), for callers that answer with a problem list,
    /// such as the daemon's `ValidatePlan`.
    pub fn into_problems(self) -> Vec<Problem> {
        match self {
            ParseError::Invalid(p) => p,
            ParseError::Syntax { .. } => vec![Problem::new(DOCUMENT_FIELD, self.to_string())],
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Syntax {
                line,
                column,
                message,
            } => f.write_str(&trf(
                "not valid YAML at line {line}, column {column}: {message}",
                &[
                    ("line", &line.to_string()),
                    ("column", &column.to_string()),
                    ("message", message),
                ],
            )),
            ParseError::Invalid(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses `install.yaml` text strictly: unknown keys, wrong types, missing
/// required fields and a `version` other than 1 are problems, all reported
/// at once with their field paths.
pub fn parse_plan(text: &str) -> Result<InstallPlan, ParseError> {
    let parsed = structure::parse(text)?;
    if parsed.problems.is_empty() {
        Ok(parsed.plan)
    } else {
        Err(ParseError::Invalid(parsed.problems))
    }
}

/// Checks a parsed plan against the rules and the system lists. Returns
/// every problem; empty means valid.
pub fn validate_plan(plan: &InstallPlan, catalog: &SystemCatalog) -> Vec<Problem> {
    let mut out = Vec::new();
    out.extend(rules::version(plan.version));
    out.extend(rules::hostname(&plan.hostname));
    out.extend(rules::locale(&plan.locale, catalog));
    out.extend(rules::keyboard(
        &plan.keyboard.layout,
        &plan.keyboard.variant,
        catalog,
    ));
    out.extend(rules::timezone(&plan.timezone, catalog));
    out.extend(rules::boot(&plan.boot));
    out.extend(rules::filesystem(&plan.filesystem));
    out.extend(rules::user_name(&plan.user.name));
    out.extend(rules::full_name(&plan.user.full_name));
    out.extend(rules::package_groups(&plan.package_groups));
    out.extend(rules::services(&plan.services));
    out
}

/// Checks `install_io`: a target disk given as an absolute path, both
/// passwords present and at least [`MIN_PASSWORD_LEN`] characters. Messages
/// never echo a password.
pub fn validate_io(io: &InstallIo) -> Vec<Problem> {
    let mut out = rules::disk(&io.disk);
    out.extend(rules::password(
        "install_io.root_password",
        io.root_password.expose(),
    ));
    out.extend(rules::password(
        "install_io.user_password",
        io.user_password.expose(),
    ));
    // Optional on its own (see [`validate_io_for`]); when given, the same
    // rules as the other passwords.
    if !io.secure_boot_password.is_empty() {
        out.extend(rules::password(
            SECURE_BOOT_PASSWORD_FIELD,
            io.secure_boot_password.expose(),
        ));
    }
    out
}

/// The field of the Secure Boot (MokManager) password.
pub const SECURE_BOOT_PASSWORD_FIELD: &str = "install_io.secure_boot_password";

/// [`validate_io`] for a plan whose `boot` is `boot`: an install that
/// resolves to EFI (it makes and enrolls a Machine Owner Key) needs the
/// Secure Boot password MokManager asks for at the next start.
pub fn validate_io_for(io: &InstallIo, boot: crate::BootMode) -> Vec<Problem> {
    let mut out = validate_io(io);
    if crate::layout::resolve_boot_mode(Some(boot)) == crate::BootMode::Efi
        && io.secure_boot_password.is_empty()
    {
        out.push(Problem::new(
            SECURE_BOOT_PASSWORD_FIELD,
            crate::i18n::tr(
                "missing: EFI installs need a Secure Boot password, asked for once at the next start to enroll this computer's key",
            ),
        ));
    }
    out
}

/// Parses and validates `text` in one go. `Ok` holds every problem (empty:
/// valid), structural and semantic together, so a plan with an unknown key
/// and a bad hostname reports both. `Err` only when the text is not YAML
/// ([`ParseError::Syntax`]); this function never returns
/// [`ParseError::Invalid`].
pub fn validate_text(text: &str, catalog: &SystemCatalog) -> Result<Vec<Problem>, ParseError> {
    checked_plan(text, catalog).map(|(_, problems)| problems)
}

/// Parses `text` once and validates it: the plan when it parsed without a
/// structural problem, and every problem (exactly [`validate_text`]'s).
/// `Err` only when the text is not YAML. For callers that need both, such
/// as the daemon, so a plan is parsed once per call.
pub fn checked_plan(
    text: &str,
    catalog: &SystemCatalog,
) -> Result<(Option<InstallPlan>, Vec<Problem>), ParseError> {
    // A document-level refusal (anchors, several documents) has no plan.
    let parsed = match structure::parse(text) {
        Err(ParseError::Invalid(problems)) => return Ok((None, problems)),
        other => other?,
    };
    let mut out = parsed.problems;
    let structural = out.len();
    out.extend(
        validate_plan(&parsed.plan, catalog)
            .into_iter()
            .filter(|p| !parsed.broken.iter().any(|b| within(&p.field, b))),
    );
    let plan = (structural == 0).then_some(parsed.plan);
    Ok((plan, out))
}

/// Like [`validate_text`], but a syntax error is one more problem (on
/// [`DOCUMENT_FIELD`]): the `a(ss)` answer of the daemon's `ValidatePlan`.
pub fn check_text(text: &str, catalog: &SystemCatalog) -> Vec<Problem> {
    check_plan(text, catalog).1
}

/// [`checked_plan`] with a syntax error as one more problem, as
/// [`check_text`]: the plan (if it parsed) and every problem, one parse.
pub fn check_plan(text: &str, catalog: &SystemCatalog) -> (Option<InstallPlan>, Vec<Problem>) {
    checked_plan(text, catalog).unwrap_or_else(|e| (None, e.into_problems()))
}

/// Whether `field` is `parent` or lies below it (`user.name` under `user`,
/// `package_groups[1]` under `package_groups`).
fn within(field: &str, parent: &str) -> bool {
    match field.strip_prefix(parent) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

/// A value made safe to show inside a one-line message: control characters
/// escaped, cut to 64 characters. Never use on a secret.
pub(crate) fn shown(value: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_matches_children_only() {
        assert!(within("user.name", "user"));
        assert!(within("user", "user"));
        assert!(within("package_groups[3]", "package_groups"));
        assert!(!within("username", "user"));
        assert!(!within("user", "user.name"));
    }

    #[test]
    fn shown_escapes_and_cuts() {
        assert_eq!(shown("a\nb"), "a\\nb");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 65);
    }
}
