//! Hostile input to validation (issue 9): YAML anchors and aliases are
//! refused before any value is built, with their line and column, and the
//! 64 KiB alias bomb is answered at once; a password longer than
//! `MAX_PASSWORD_BYTES` is a problem on its field, before anything is written.

mod common;
/// The alias bomb, shared with the harness suites.
#[path = "../../../tests/harness/hostile_yaml.rs"]
mod hostile_yaml;

use std::time::{Duration, Instant};

use common::{catalog, fields, good_io, GOOD_CANONICAL};
use forge_proto::install_io::Secret;
use forge_proto::validate::{
    check_plan, check_text, parse_plan, validate_io, validate_text, ParseError, DOCUMENT_FIELD,
    MAX_PASSWORD_BYTES,
};
use hostile_yaml::alias_bomb;

/// The one problem of an anchored text, on the document, naming the position.
fn assert_refused(text: &str, line: usize, column: usize) {
    let want = format!("line {line}, column {column}");
    match parse_plan(text) {
        Err(ParseError::Invalid(problems)) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].field, DOCUMENT_FIELD);
            assert!(problems[0].message.contains(&want), "{}", problems[0]);
            assert!(problems[0].message.contains("anchor or alias"));
        }
        other => panic!("{text:?}: expected a refusal, got {other:?}"),
    }
    let problems = validate_text(text, &catalog()).expect("not a syntax error");
    assert_eq!(fields(&problems), vec![DOCUMENT_FIELD]);
    assert_eq!(check_text(text, &catalog()), problems);
    let (plan, checked) = check_plan(text, &catalog());
    assert!(plan.is_none());
    assert_eq!(checked, problems);
}

#[test]
fn anchors_and_aliases_are_refused_with_their_position() {
    // An anchor on a scalar, on a mapping, on a list; an alias; a merge key.
    let with_anchor = GOOD_CANONICAL.replace("hostname: igos-desk", "hostname: &h igos-desk");
    assert_refused(&with_anchor, 2, 11);
    let on_mapping = GOOD_CANONICAL.replace("keyboard:\n", "keyboard: &k\n");
    assert_refused(&on_mapping, 4, 11);
    let alias = GOOD_CANONICAL.replace("services: []", "services: *g");
    assert_refused(&alias, 19, 11);
    let list = GOOD_CANONICAL.replace("package_groups:\n", "package_groups: &g\n");
    assert_refused(&format!("{list}extra: *g\n"), 14, 17);
    let merge = GOOD_CANONICAL.replace("user:\n", "user:\n  <<: *u\n");
    assert_refused(&merge, 11, 7);
    // In a second document too.
    assert_refused(&format!("{GOOD_CANONICAL}---\nx: *y\n"), 21, 4);
}

#[test]
fn anchor_characters_inside_text_are_not_anchors() {
    let text = GOOD_CANONICAL.replace("Alice Liddell", "'Alice & *Bob'");
    let plan = parse_plan(&text).expect("parses");
    assert_eq!(plan.user.full_name, "Alice & *Bob");
}

#[test]
fn the_alias_bomb_is_refused_at_once() {
    let bomb = alias_bomb();
    assert!(bomb.len() <= 64 * 1024, "{}", bomb.len());
    let start = Instant::now();
    assert_refused(&bomb, 1, 4);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn a_password_over_the_maximum_is_refused_on_its_field() {
    let mut io = good_io();
    io.root_password = Secret::new("x".repeat(MAX_PASSWORD_BYTES + 1));
    // Multi-byte letters count in bytes: 129 × 2 bytes is over 256.
    io.user_password = Secret::new("ä".repeat(MAX_PASSWORD_BYTES / 2 + 1));
    let problems = validate_io(&io);
    assert_eq!(
        fields(&problems),
        vec!["install_io.root_password", "install_io.user_password"]
    );
    for p in &problems {
        assert!(p.message.contains("too long"), "{p}");
        assert!(p.message.contains(&MAX_PASSWORD_BYTES.to_string()), "{p}");
        assert!(!p.message.contains("xxxx") && !p.message.contains("ää"));
    }
    // Exactly the maximum is fine, and well below the library's 512.
    io.root_password = Secret::new("x".repeat(MAX_PASSWORD_BYTES));
    io.user_password = Secret::new("ä".repeat(MAX_PASSWORD_BYTES / 2));
    assert_eq!(validate_io(&io), vec![]);
    const { assert!(MAX_PASSWORD_BYTES < 512) };
}

/// Issue 9, item 14: the MokManager password is a Secure Boot password of
/// its own, required for EFI installs (they enroll a key), never echoed,
/// with the same maximum as the other passwords.
#[test]
fn efi_installs_need_a_secure_boot_password_within_the_maximum() {
    use forge_proto::validate::{validate_io_for, SECURE_BOOT_PASSWORD_FIELD};
    use forge_proto::BootMode;
    let mut io = good_io();
    let problems = validate_io_for(&io, BootMode::Efi);
    assert_eq!(fields(&problems), vec![SECURE_BOOT_PASSWORD_FIELD]);
    assert!(problems[0].message.contains("missing"), "{}", problems[0]);
    // BIOS installs enroll nothing: not needed.
    assert_eq!(validate_io_for(&io, BootMode::Bios), vec![]);

    io.secure_boot_password = Secret::new("s".repeat(MAX_PASSWORD_BYTES + 1));
    let problems = validate_io_for(&io, BootMode::Efi);
    assert_eq!(fields(&problems), vec![SECURE_BOOT_PASSWORD_FIELD]);
    assert!(problems[0].message.contains("too long"), "{}", problems[0]);
    assert!(!problems[0].message.contains("ssss"));
    // Checked when given even where it is not needed.
    assert_eq!(fields(&validate_io(&io)), vec![SECURE_BOOT_PASSWORD_FIELD]);

    io.secure_boot_password = Secret::new("mok-pass-42");
    assert_eq!(validate_io_for(&io, BootMode::Efi), vec![]);
}
