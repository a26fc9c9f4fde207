//! The system lists validation checks against: reading them from fixture
//! files, errors that name the unreadable file, and the real lists of this
//! machine with the example plan of `data/examples/install.yaml`.

mod common;

use std::path::PathBuf;

use common::{catalog, fixture_paths};
use forge_proto::catalog::{CatalogPaths, SystemCatalog};
use forge_proto::validate::{validate_plan, validate_text};

#[test]
fn fixture_files_read_like_the_catalog_built_in_code() {
    let loaded = SystemCatalog::load_from(&fixture_paths()).expect("fixtures load");
    let built = catalog();
    assert_eq!(loaded.locales, built.locales);
    assert_eq!(loaded.layouts, built.layouts);
    assert_eq!(loaded.timezones, built.timezones);
    // Comment lines are not locales; links are time zones.
    assert!(!loaded.locales.iter().any(|l| l.starts_with('#')));
    assert!(loaded.timezones.contains("UTC"));
}

#[test]
fn an_unreadable_list_is_an_error_naming_its_file() {
    let good = fixture_paths();
    let missing = PathBuf::from("/nonexistent/forge-test/list");
    let cases = [
        CatalogPaths {
            supported_locales: missing.clone(),
            ..good.clone()
        },
        CatalogPaths {
            xkb_rules: missing.clone(),
            ..good.clone()
        },
        CatalogPaths {
            zoneinfo: missing.clone(),
            ..good.clone()
        },
        // Not XML at all.
        CatalogPaths {
            xkb_rules: good.supported_locales.clone(),
            ..good.clone()
        },
    ];
    for paths in cases {
        let err = SystemCatalog::load_from(&paths).expect_err("must fail");
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/forge-test/list") || msg.contains("SUPPORTED"),
            "{msg}"
        );
    }
}

fn example_plan() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/examples/install.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_example_plan_is_valid_against_the_fixtures() {
    let problems = validate_text(&example_plan(), &catalog()).expect("yaml");
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn the_real_system_lists() {
    let cat = match SystemCatalog::load() {
        Ok(c) => c,
        Err(e) => {
            common::skip::skip(format!(
                "the system lists cannot be read ({e}); run scripts/setup-debian.sh"
            ));
            return;
        }
    };
    // Debian 12 with locales, xkb-data and tzdata.
    assert!(cat.locales.len() > 100, "{} locales", cat.locales.len());
    for l in ["en_US.UTF-8", "de_DE.UTF-8", "ar_EG.UTF-8"] {
        assert!(cat.locales.contains(l), "missing locale {l}");
    }
    let us = cat.layouts.get("us").expect("layout us");
    assert!(us.variants.contains_key("intl"));
    assert!(cat.layouts.contains_key("de") && cat.layouts.contains_key("ara"));
    assert!(cat.layouts.len() > 50);
    for z in ["Europe/Berlin", "UTC", "America/New_York", "Africa/Cairo"] {
        assert!(cat.timezones.contains(z), "missing time zone {z}");
    }
    assert!(cat.timezones.len() > 300);
    assert!(!cat.timezones.contains("posixrules"));

    let problems = validate_text(&example_plan(), &cat).expect("yaml");
    assert!(problems.is_empty(), "{problems:?}");

    let mut plan = common::good_plan();
    plan.locale = "de_DE.UTF-8".into();
    plan.keyboard.layout = "de".into();
    plan.keyboard.variant = "nodeadkeys".into();
    plan.timezone = "Africa/Cairo".into();
    assert!(validate_plan(&plan, &cat).is_empty());
    plan.timezone = "Mars/Olympus_Mons".into();
    plan.keyboard.variant = "no-such-variant".into();
    assert_eq!(
        common::fields(&validate_plan(&plan, &cat)),
        vec!["keyboard.variant", "timezone"]
    );
}
