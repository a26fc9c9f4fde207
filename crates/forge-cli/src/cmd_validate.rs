//! `forgectl validate FILE`: offline validation of an install.yaml against
//! this system's lists (locales, keyboard layouts, time zones). Prints one
//! `field: message` line per problem on stdout. Exit status: 0 valid,
//! 1 invalid, 2 when the file (or a system list) cannot be read or the file
//! is not YAML.

use std::path::Path;
use std::process::ExitCode;

use forge_proto::catalog::{CatalogPaths, SystemCatalog};
use forge_proto::i18n::trf;
use forge_proto::validate::{validate_text, ParseError};

use crate::cli::ValidateArgs;

/// Exit status of a valid plan.
const VALID: u8 = 0;
/// Exit status of a plan with problems.
const INVALID: u8 = 1;
/// Exit status when the plan or a system list cannot be read, or the plan is
/// not YAML.
const UNREADABLE: u8 = 2;

pub fn run(args: ValidateArgs) -> ExitCode {
    ExitCode::from(validate_file(&args.file, args.sysroot.as_deref()))
}

fn catalog_paths(sysroot: Option<&Path>) -> CatalogPaths {
    let d = CatalogPaths::default();
    let Some(root) = sysroot else {
        return d;
    };
    let under = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    CatalogPaths {
        supported_locales: under(&d.supported_locales),
        xkb_rules: under(&d.xkb_rules),
        zoneinfo: under(&d.zoneinfo),
    }
}

fn validate_file(file: &Path, sysroot: Option<&Path>) -> u8 {
    let name = file.display().to_string();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "{}",
                trf(
                    "forgectl: cannot read {file}: {error}",
                    &[("file", &name), ("error", &e.to_string())],
                )
            );
            return UNREADABLE;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "{}",
                trf(
                    "forgectl: {file} is not UTF-8 text (invalid byte at offset {offset})",
                    &[
                        ("file", &name),
                        ("offset", &e.utf8_error().valid_up_to().to_string()),
                    ],
                )
            );
            return UNREADABLE;
        }
    };
    let catalog = match SystemCatalog::load_from(&catalog_paths(sysroot)) {
        Ok(c) => c,
        Err(e) => {
            // The error names the list's file.
            eprintln!(
                "{}",
                trf(
                    "forgectl: cannot read a system list that validation needs: {error}",
                    &[("error", &e.to_string())],
                )
            );
            return UNREADABLE;
        }
    };
    match validate_text(&text, &catalog) {
        Ok(problems) if problems.is_empty() => {
            eprintln!("{}", trf("{file}: valid", &[("file", &name)]));
            VALID
        }
        Ok(problems) | Err(ParseError::Invalid(problems)) => {
            for p in &problems {
                println!("{p}");
            }
            INVALID
        }
        Err(ParseError::Syntax {
            line,
            column,
            message,
        }) => {
            eprintln!(
                "{}",
                trf(
                    "{file}:{line}:{column}: not YAML (line {line}, column {column}): {message}",
                    &[
                        ("file", &name),
                        ("line", &line.to_string()),
                        ("column", &column.to_string()),
                        ("message", &message),
                    ],
                )
            );
            UNREADABLE
        }
    }
}
