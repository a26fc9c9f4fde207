//! Canonical serialization: the same plan always yields the same bytes,
//! whatever the key order, style or comments of the text it came from, and
//! the canonical text parses back to the same plan (checked on arbitrary
//! plans with proptest).

mod common;

use common::{good_plan, GOOD_CANONICAL};
use forge_proto::validate::parse_plan;
use forge_proto::{InstallPlan, Keyboard, User};
use proptest::prelude::*;

#[test]
fn canonical_bytes_are_pinned() {
    assert_eq!(good_plan().to_canonical_yaml(), GOOD_CANONICAL);
}

#[test]
fn parse_serialize_parse_serialize() {
    let first = good_plan().to_canonical_yaml();
    let plan = parse_plan(&first).expect("canonical text parses");
    assert_eq!(plan, good_plan());
    assert_eq!(plan.to_canonical_yaml(), first);
}

#[test]
fn key_order_style_and_comments_do_not_matter() {
    let variants = [
        // flow style, docs/install-yaml.md's example
        "version: 1\nhostname: igos-desk\nlocale: en_US.UTF-8\n\
         keyboard: { layout: us, variant: \"\" }\ntimezone: Europe/Berlin\nboot: auto\n\
         filesystem: ext4\nuser: { name: alice, full_name: Alice Liddell, admin: true }\n\
         package_groups: [toolchain, core, base, desktop]\nservices: []\n",
        // reversed key order, comments, quoting
        "# written by hand\nservices: []   # none extra\n\
         package_groups:\n  - toolchain   # the compilers\n  - core\n  - \"base\"\n  - 'desktop'\n\
         user:\n  admin: true\n  full_name: Alice Liddell\n  name: alice\n\
         filesystem: ext4\nboot: auto\ntimezone: Europe/Berlin\n\
         keyboard:\n  variant: ''\n  layout: us\nlocale: en_US.UTF-8\nhostname: igos-desk\nversion: 1\n",
        // everything in one flow mapping, different quoting
        "{user: {admin: true, full_name: \"Alice Liddell\", name: 'alice'}, services: [], \
         timezone: \"Europe/Berlin\", version: 1, keyboard: {variant: '', layout: us}, \
         locale: en_US.UTF-8, hostname: \"igos-desk\", package_groups: [toolchain, core, base, desktop]}\n",
        // CRLF line ends and a document start marker
        "---\r\nversion: 1\r\nhostname: igos-desk\r\nlocale: en_US.UTF-8\r\n\
         keyboard:\r\n  layout: us\r\ntimezone: Europe/Berlin\r\n\
         user:\r\n  name: alice\r\n  full_name: Alice Liddell\r\n  admin: true\r\n\
         package_groups: [toolchain, core, base, desktop]\r\n",
    ];
    for (i, text) in variants.iter().enumerate() {
        let plan = parse_plan(text).unwrap_or_else(|e| panic!("variant {i}: {e}"));
        assert_eq!(plan.to_canonical_yaml(), GOOD_CANONICAL, "variant {i}");
    }
}

/// Text that YAML might read as something else, or that needs escaping.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("yes".to_string()),
        Just("no".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("true".to_string()),
        Just("1".to_string()),
        Just("0x1F".to_string()),
        Just("1e3".to_string()),
        Just(".inf".to_string()),
        Just("- a".to_string()),
        Just("a: b".to_string()),
        Just("# c".to_string()),
        Just("'q'".to_string()),
        Just("\"q\"".to_string()),
        Just("&anchor".to_string()),
        Just("*alias".to_string()),
        Just("!tag".to_string()),
        Just("{a}".to_string()),
        Just("[a]".to_string()),
        Just(" lead".to_string()),
        Just("trail ".to_string()),
        Just("two\nlines".to_string()),
        Just("two\nlines\n".to_string()),
        Just("cr\rlf\r\n".to_string()),
        Just("tab\there".to_string()),
        Just("bom\u{feff}".to_string()),
        Just("nel\u{85}ls\u{2028}".to_string()),
        Just("nul\u{0}bell\u{7}".to_string()),
        Just("Zoë أحمد 日本".to_string()),
        "\\PC{0,20}",
        any::<String>(),
    ]
}

fn any_plan() -> impl Strategy<Value = InstallPlan> {
    (
        (
            1u32..4,
            tricky_text(),
            tricky_text(),
            tricky_text(),
            tricky_text(),
            tricky_text(),
        ),
        (
            tricky_text(),
            tricky_text(),
            tricky_text(),
            tricky_text(),
            any::<bool>(),
            proptest::collection::vec(tricky_text(), 0..4),
            proptest::collection::vec(tricky_text(), 0..3),
        ),
    )
        .prop_map(
            |(
                (version, hostname, locale, layout, variant, timezone),
                (boot, filesystem, name, full_name, admin, package_groups, services),
            )| InstallPlan {
                version,
                hostname,
                locale,
                keyboard: Keyboard { layout, variant },
                timezone,
                boot,
                filesystem,
                user: User {
                    name,
                    full_name,
                    admin,
                },
                package_groups,
                services,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any plan (valid or not) survives serialize -> parse unchanged, and
    /// serializing again gives the same bytes.
    #[test]
    fn round_trip_is_byte_stable(plan in any_plan()) {
        let first = plan.to_canonical_yaml();
        prop_assert!(first.ends_with('\n'));
        let mut version_one = plan.clone();
        version_one.version = 1;
        let text = version_one.to_canonical_yaml();
        let back = parse_plan(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- text:\n{text}")))?;
        prop_assert_eq!(&back, &version_one);
        prop_assert_eq!(back.to_canonical_yaml(), text);
        // Serialization does not depend on anything but the plan.
        prop_assert_eq!(plan.clone().to_canonical_yaml(), first);
    }
}
