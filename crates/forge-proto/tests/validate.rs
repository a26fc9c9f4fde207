//! Table-driven tests of every validation rule, good and bad values, on a
//! fixture catalog; the structural checks of `parse_plan`; `validate_text`
//! reporting every problem at once; `validate_io` never echoing a password.

mod common;

use common::{catalog, fields, good_io, good_plan};
use forge_proto::validate::{
    check_text, parse_plan, validate_io, validate_plan, validate_text, ParseError, DOCUMENT_FIELD,
    MIN_PASSWORD_LEN,
};
use forge_proto::{InstallIo, InstallPlan, Secret};

/// Sets the text field `field` (a field path) of `plan` to `value`.
fn set(plan: &mut InstallPlan, field: &str, value: &str) {
    let v = value.to_string();
    match field {
        "hostname" => plan.hostname = v,
        "locale" => plan.locale = v,
        "keyboard.layout" => plan.keyboard.layout = v,
        "keyboard.variant" => plan.keyboard.variant = v,
        "timezone" => plan.timezone = v,
        "boot" => plan.boot = v,
        "filesystem" => plan.filesystem = v,
        "user.name" => plan.user.name = v,
        "user.full_name" => plan.user.full_name = v,
        other => panic!("test table names unknown field {other}"),
    }
}

const OK: bool = true;
const BAD: bool = false;

/// (field, value, valid?). A bad value must produce problems on exactly
/// that field and no other; a good one none at all.
fn text_cases() -> Vec<(&'static str, String, bool)> {
    let s = |x: &str| x.to_string();
    let label63 = "a".repeat(63);
    let label64 = "a".repeat(64);
    // 4 labels of 63 + 3 dots = 255 > 253; 3 labels of 63 + 61 + dots = 253.
    let host253 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
    let host254 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(62));
    vec![
        ("hostname", s("igos-desk"), OK),
        ("hostname", s("a"), OK),
        ("hostname", s("web01.example.org"), OK),
        ("hostname", s("1igos"), OK),
        ("hostname", s("x-1-y"), OK),
        ("hostname", label63.clone(), OK),
        ("hostname", host253, OK),
        ("hostname", s(""), BAD),
        ("hostname", s("Igos-Desk"), BAD),
        ("hostname", s("igos_desk"), BAD),
        ("hostname", s("igos desk"), BAD),
        ("hostname", s("-igos"), BAD),
        ("hostname", s("igos-"), BAD),
        ("hostname", s("a.-b"), BAD),
        ("hostname", s("a..b"), BAD),
        ("hostname", s(".igos"), BAD),
        ("hostname", s("igos."), BAD),
        ("hostname", s("ígos"), BAD),
        ("hostname", s("igos\n"), BAD),
        ("hostname", label64, BAD),
        ("hostname", host254, BAD),
        ("locale", s("en_US.UTF-8"), OK),
        ("locale", s("de_DE.UTF-8"), OK),
        ("locale", s("ar_EG.UTF-8"), OK),
        ("locale", s("de_DE@euro"), OK),
        ("locale", s(""), BAD),
        ("locale", s("en_US.utf8"), BAD),
        ("locale", s("xx_XX.UTF-8"), BAD),
        ("locale", s("en_US.UTF-8 UTF-8"), BAD),
        ("keyboard.layout", s("us"), OK),
        ("keyboard.layout", s("de"), OK),
        ("keyboard.layout", s("ara"), OK),
        ("keyboard.layout", s(""), BAD),
        ("keyboard.layout", s("US"), BAD),
        ("keyboard.layout", s("klingon"), BAD),
        ("keyboard.variant", s(""), OK),
        ("keyboard.variant", s("intl"), OK),
        ("keyboard.variant", s("dvorak"), OK),
        ("keyboard.variant", s("nodeadkeys"), BAD), // a variant of `de`, not `us`
        ("keyboard.variant", s("qwertz"), BAD),
        ("timezone", s("Europe/Berlin"), OK),
        ("timezone", s("UTC"), OK),
        ("timezone", s("Arctic/Longyearbyen"), OK),
        ("timezone", s(""), BAD),
        ("timezone", s("Mars/Olympus_Mons"), BAD),
        ("timezone", s("europe/berlin"), BAD),
        ("timezone", s("/etc/localtime"), BAD),
        ("timezone", s("../../etc/passwd"), BAD),
        ("boot", s("auto"), OK),
        ("boot", s("efi"), OK),
        ("boot", s("bios"), OK),
        ("boot", s("uefi"), BAD),
        ("boot", s("EFI"), BAD),
        ("boot", s(""), BAD),
        ("filesystem", s("ext4"), OK),
        ("filesystem", s("xfs"), OK),
        ("filesystem", s("btrfs"), OK),
        ("filesystem", s("vfat"), BAD),
        ("filesystem", s("zfs"), BAD),
        ("filesystem", s(""), BAD),
        ("user.name", s("alice"), OK),
        ("user.name", s("a"), OK),
        ("user.name", s("bob-2"), OK),
        ("user.name", s("c_d"), OK),
        ("user.name", "a".repeat(32), OK),
        ("user.name", s("rooted"), OK),
        ("user.name", s(""), BAD),
        ("user.name", s("root"), BAD),
        ("user.name", s("daemon"), BAD),
        ("user.name", s("bin"), BAD),
        ("user.name", s("nobody"), BAD),
        ("user.name", s("sshd"), BAD),
        ("user.name", s("wheel"), BAD),
        ("user.name", s("admin"), BAD),
        ("user.name", s("systemd-network"), BAD),
        ("user.name", s("_apt"), BAD),
        ("user.name", s("Alice"), BAD),
        ("user.name", s("1alice"), BAD),
        ("user.name", s("-alice"), BAD),
        ("user.name", s("al ice"), BAD),
        ("user.name", s("al.ice"), BAD),
        ("user.name", s("alice$"), BAD),
        ("user.name", s("élise"), BAD),
        ("user.name", "a".repeat(33), BAD),
        ("user.full_name", s(""), OK),
        ("user.full_name", s("Alice Liddell"), OK),
        ("user.full_name", s("Zoë O’Brien-Ünal"), OK),
        ("user.full_name", s("أحمد"), OK),
        ("user.full_name", s("Alice:Liddell"), BAD),
        ("user.full_name", s("Liddell, Alice"), BAD),
        ("user.full_name", s("Alice\nLiddell"), BAD),
        ("user.full_name", s("Alice\tLiddell"), BAD),
        ("user.full_name", s("Alice\u{7}"), BAD),
        ("user.full_name", "x".repeat(257), BAD),
    ]
}

#[test]
fn the_good_plan_is_valid() {
    let problems = validate_plan(&good_plan(), &catalog());
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn every_text_rule_good_and_bad() {
    let cat = catalog();
    let mut failures = Vec::new();
    for (field, value, valid) in text_cases() {
        let mut plan = good_plan();
        set(&mut plan, field, &value);
        let problems = validate_plan(&plan, &cat);
        let got = fields(&problems);
        let want: Vec<String> = if valid { vec![] } else { vec![field.into()] };
        if got != want {
            failures.push(format!(
                "{field} = {value:?}: want {want:?}, got {problems:?}"
            ));
        }
        for p in &problems {
            if p.message.is_empty() || p.message.contains('\n') {
                failures.push(format!("{field} = {value:?}: bad message {p:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Checks that the problems for one value mention `needle`.
fn message_for(field: &str, value: &str) -> String {
    let mut plan = good_plan();
    set(&mut plan, field, value);
    validate_plan(&plan, &catalog())
        .into_iter()
        .map(|p| p.message)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn messages_say_what_is_wrong() {
    assert!(message_for("hostname", "Igos").contains("lowercase"));
    assert!(message_for("hostname", "-igos").contains("hyphen"));
    assert!(message_for("hostname", &"a".repeat(64)).contains("63"));
    assert!(message_for("hostname", "a..b").contains("empty label"));
    assert!(message_for("user.name", "root").contains("reserved"));
    assert!(message_for("user.name", "root").contains("root"));
    assert!(message_for("user.name", &"a".repeat(33)).contains("32"));
    assert!(message_for("user.full_name", "a:b").contains(':'));
    assert!(message_for("timezone", "Mars/Base").contains("Mars/Base"));
    // Near misses get a suggestion.
    assert!(message_for("timezone", "europe/berlin").contains("Europe/Berlin"));
    assert!(message_for("locale", "en_US.utf-8").contains("en_US.UTF-8"));
    assert!(message_for("boot", "uefi").contains("auto, efi or bios"));
    assert!(message_for("filesystem", "vfat").contains("ext4, xfs or btrfs"));
    // A value with a line break is shown escaped, on one line.
    let m = message_for("locale", "en\nUS");
    assert!(m.contains("en\\nUS") && !m.contains('\n'), "{m}");
}

#[test]
fn variant_of_an_unknown_layout_is_not_judged() {
    let mut plan = good_plan();
    plan.keyboard.layout = "klingon".into();
    plan.keyboard.variant = "tlh".into();
    let got = fields(&validate_plan(&plan, &catalog()));
    assert_eq!(got, vec!["keyboard.layout"]);
}

#[test]
fn version_other_than_1_is_a_problem() {
    let mut plan = good_plan();
    plan.version = 2;
    assert_eq!(fields(&validate_plan(&plan, &catalog())), vec!["version"]);
}

#[test]
fn package_groups_rules() {
    let cat = catalog();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["core"], vec![]),
        (
            vec!["toolchain", "core", "base", "desktop", "extra", "ai"],
            vec![],
        ),
        (vec!["ai", "core"], vec![]),
        (vec![], vec!["package_groups"]),
        (vec!["core", "games"], vec!["package_groups[1]"]),
        (vec!["Core"], vec!["package_groups[0]"]),
        (vec![""], vec!["package_groups[0]"]),
        (vec!["core", "base", "core"], vec!["package_groups[2]"]),
        (
            vec!["x", "core", "y", "core"],
            vec![
                "package_groups[0]",
                "package_groups[2]",
                "package_groups[3]",
            ],
        ),
    ];
    for (groups, want) in cases {
        let mut plan = good_plan();
        plan.package_groups = groups.iter().map(|s| s.to_string()).collect();
        let problems = validate_plan(&plan, &cat);
        assert_eq!(fields(&problems), want, "{groups:?}: {problems:?}");
    }
    let mut plan = good_plan();
    plan.package_groups = vec!["games".into()];
    let m = &validate_plan(&plan, &cat)[0].message;
    assert!(m.contains("games") && m.contains("toolchain, core, base, desktop, extra, ai"));
}

#[test]
fn services_rules() {
    let cat = catalog();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], vec![]),
        (
            vec![
                "ssh.service",
                "fstrim.timer",
                "cups.socket",
                "graphical.target",
                "cups.path",
            ],
            vec![],
        ),
        (vec!["getty@tty1.service"], vec![]),
        (
            vec!["systemd-networkd.service", "dbus-org.x.service"],
            vec![],
        ),
        (vec!["ssh"], vec!["services[0]"]),
        (vec!["ssh.service", "foo.mount"], vec!["services[1]"]),
        (vec!["/etc/systemd/system/x.service"], vec!["services[0]"]),
        (vec!["../x.service"], vec!["services[0]"]),
        (vec![".service"], vec!["services[0]"]),
        (vec![""], vec!["services[0]"]),
        (vec!["my unit.service"], vec!["services[0]"]),
        (vec!["x.service", "x.service"], vec!["services[1]"]),
    ];
    for (units, want) in cases {
        let mut plan = good_plan();
        plan.services = units.iter().map(|s| s.to_string()).collect();
        let problems = validate_plan(&plan, &cat);
        assert_eq!(fields(&problems), want, "{units:?}: {problems:?}");
    }
    let mut plan = good_plan();
    plan.services = vec![format!("{}.service", "a".repeat(250))];
    assert_eq!(
        fields(&validate_plan(&plan, &cat)),
        vec!["services[0]"],
        "too long a unit name"
    );
}

#[test]
fn every_problem_at_once() {
    let mut plan = good_plan();
    plan.hostname = "Bad_Host".into();
    plan.timezone = "Mars/Base".into();
    plan.user.name = "root".into();
    plan.package_groups.push("games".into());
    plan.boot = "uefi".into();
    let problems = validate_plan(&plan, &catalog());
    assert_eq!(
        fields(&problems),
        vec![
            "boot",
            "hostname",
            "package_groups[4]",
            "timezone",
            "user.name"
        ]
    );
}

/// A change to a valid install_io.
type IoEdit = fn(&mut InstallIo);

#[test]
fn install_io_rules() {
    assert!(validate_io(&good_io()).is_empty());
    let cases: Vec<(IoEdit, Vec<&str>)> = vec![
        (
            |io: &mut InstallIo| io.disk = String::new(),
            vec!["install_io.disk"],
        ),
        (
            |io: &mut InstallIo| io.disk = "sda".into(),
            vec!["install_io.disk"],
        ),
        (
            |io: &mut InstallIo| io.disk = "/dev/sda\n".into(),
            vec!["install_io.disk"],
        ),
        (
            |io: &mut InstallIo| io.disk = "/var/lib/forge/images/a.img".into(),
            vec![],
        ),
        (
            |io: &mut InstallIo| io.root_password = Secret::default(),
            vec!["install_io.root_password"],
        ),
        (
            |io: &mut InstallIo| io.user_password = Secret::new("1234567"),
            vec!["install_io.user_password"],
        ),
        (
            |io: &mut InstallIo| io.user_password = Secret::new("12345678"),
            vec![],
        ),
        (
            |io: &mut InstallIo| io.user_password = Secret::new("äöüßäöüß"),
            vec![],
        ),
        (
            |io: &mut InstallIo| io.user_password = Secret::new("line\nbreak!"),
            vec!["install_io.user_password"],
        ),
        (
            |io: &mut InstallIo| {
                io.disk = String::new();
                io.root_password = Secret::default();
                io.user_password = Secret::new("short");
            },
            vec![
                "install_io.disk",
                "install_io.root_password",
                "install_io.user_password",
            ],
        ),
    ];
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        let mut io = good_io();
        edit(&mut io);
        let problems = validate_io(&io);
        assert_eq!(fields(&problems), want, "case {i}: {problems:?}");
    }
    assert_eq!(MIN_PASSWORD_LEN, 8);
}

#[test]
fn passwords_are_never_echoed() {
    // Passwords that break each rule, and one that looks like a field value.
    for pw in ["hunter2", "hunter2\n", "alice", "/dev/vda", "12345678\u{0}"] {
        let mut io = good_io();
        io.root_password = Secret::new(pw);
        io.user_password = Secret::new(pw);
        io.disk = String::new();
        let problems = validate_io(&io);
        assert!(!problems.is_empty() || pw.chars().count() >= 8);
        for p in &problems {
            let line = p.to_string();
            let trimmed = pw.trim_end_matches(['\n', '\0']);
            assert!(!p.message.contains(trimmed), "password echoed in {line:?}");
        }
        assert!(!format!("{io:?}").contains("hunter2"));
    }
}

// ---- structure: parse_plan -------------------------------------------------

const GOOD_YAML: &str = "\
version: 1
hostname: igos-desk
locale: en_US.UTF-8
keyboard: { layout: us, variant: \"\" }
timezone: Europe/Berlin
boot: auto
filesystem: ext4
user: { name: alice, full_name: Alice Liddell, admin: true }
package_groups: [toolchain, core, base, desktop]
services: []
";

/// `GOOD_YAML` with the line starting `key:` replaced by `line`
/// (or removed when `line` is empty).
fn edit_line(key: &str, line: &str) -> String {
    let mut out = String::new();
    let mut found = false;
    for l in GOOD_YAML.lines() {
        if l.starts_with(&format!("{key}:")) {
            found = true;
            if !line.is_empty() {
                out.push_str(line);
                out.push('\n');
            }
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    assert!(found, "no line {key}");
    out
}

fn invalid_fields(text: &str) -> Vec<String> {
    match parse_plan(text) {
        Err(ParseError::Invalid(p)) => {
            for x in &p {
                assert!(!x.message.is_empty());
            }
            fields(&p)
        }
        other => panic!("expected Invalid for {text:?}, got {other:?}"),
    }
}

#[test]
fn parse_the_design_example() {
    assert_eq!(parse_plan(GOOD_YAML).expect("parses"), good_plan());
}

#[test]
fn optional_fields_take_their_defaults() {
    let text = "version: 1\nhostname: h\nlocale: en_US.UTF-8\nkeyboard: {layout: us}\n\
                timezone: UTC\nuser: {name: bob}\npackage_groups: [core]\n";
    let plan = parse_plan(text).expect("parses");
    assert_eq!(plan.boot, "auto");
    assert_eq!(plan.filesystem, "ext4");
    assert_eq!(plan.keyboard.variant, "");
    assert_eq!(plan.user.full_name, "");
    assert!(!plan.user.admin);
    assert!(plan.services.is_empty());
    // `variant:` with no value is the empty variant.
    let text = text.replace("{layout: us}", "\n  layout: us\n  variant:");
    assert_eq!(parse_plan(&text).expect("parses").keyboard.variant, "");
}

#[test]
fn structural_problems_name_their_field() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        // unknown keys, top level and nested
        (format!("{GOOD_YAML}colour: blue\n"), vec!["colour"]),
        (
            edit_line(
                "user",
                "user: { name: alice, shell: /bin/zsh, admin: true }",
            ),
            vec!["user.shell"],
        ),
        (
            edit_line("keyboard", "keyboard: { layout: us, model: pc105 }"),
            vec!["keyboard.model"],
        ),
        (format!("{GOOD_YAML}Hostname: x\n"), vec!["Hostname"]),
        (format!("{GOOD_YAML}1: x\n"), vec!["1"]),
        // wrong version
        (edit_line("version", "version: 2"), vec!["version"]),
        (edit_line("version", "version: \"1\""), vec!["version"]),
        (edit_line("version", "version: 1.5"), vec!["version"]),
        (edit_line("version", "version: -1"), vec!["version"]),
        (edit_line("version", ""), vec!["version"]),
        // missing required fields
        (edit_line("hostname", ""), vec!["hostname"]),
        (edit_line("locale", ""), vec!["locale"]),
        (edit_line("keyboard", ""), vec!["keyboard"]),
        (
            edit_line("keyboard", "keyboard: { variant: intl }"),
            vec!["keyboard.layout"],
        ),
        (edit_line("timezone", ""), vec!["timezone"]),
        (edit_line("user", ""), vec!["user"]),
        (
            edit_line("user", "user: { admin: true }"),
            vec!["user.name"],
        ),
        (edit_line("package_groups", ""), vec!["package_groups"]),
        // wrong types
        (edit_line("hostname", "hostname: 1234"), vec!["hostname"]),
        (edit_line("hostname", "hostname: [a, b]"), vec!["hostname"]),
        (edit_line("hostname", "hostname:"), vec!["hostname"]),
        (edit_line("locale", "locale: true"), vec!["locale"]),
        (edit_line("keyboard", "keyboard: us"), vec!["keyboard"]),
        (edit_line("timezone", "timezone: {a: b}"), vec!["timezone"]),
        (edit_line("boot", "boot: 1"), vec!["boot"]),
        (
            edit_line("filesystem", "filesystem: [ext4]"),
            vec!["filesystem"],
        ),
        (edit_line("user", "user: alice"), vec!["user"]),
        (
            edit_line("user", "user: { name: alice, admin: \"yes\" }"),
            vec!["user.admin"],
        ),
        (
            edit_line("user", "user: { name: [alice], full_name: 3 }"),
            vec!["user.full_name", "user.name"],
        ),
        (
            edit_line("package_groups", "package_groups: core"),
            vec!["package_groups"],
        ),
        (
            edit_line("package_groups", "package_groups: [core, 3, {a: b}]"),
            vec!["package_groups[1]", "package_groups[2]"],
        ),
        (
            edit_line("services", "services: ssh.service"),
            vec!["services"],
        ),
        (
            edit_line("services", "services: [null]"),
            vec!["services[0]"],
        ),
        (
            edit_line("hostname", "hostname: !custom x"),
            vec!["hostname"],
        ),
        // the document itself
        ("- a\n- b\n".to_string(), vec![DOCUMENT_FIELD]),
        ("just text\n".to_string(), vec![DOCUMENT_FIELD]),
        (format!("{GOOD_YAML}---\n{GOOD_YAML}"), vec![DOCUMENT_FIELD]),
    ];
    for (text, want) in cases {
        assert_eq!(invalid_fields(&text), want, "for:\n{text}");
    }
}

#[test]
fn all_structural_problems_at_once() {
    let text = "version: 3\nhostname: 5\nkeyboard: us\nuser: { name: alice, shell: zsh }\n\
                package_groups: [core, 7]\nextra: 1\n";
    assert_eq!(
        invalid_fields(text),
        vec![
            "extra",
            "hostname",
            "keyboard",
            "locale",
            "package_groups[1]",
            "timezone",
            "user.shell",
            "version"
        ]
    );
}

#[test]
fn empty_documents_list_every_missing_field() {
    let want = vec![
        "hostname",
        "keyboard",
        "locale",
        "package_groups",
        "timezone",
        "user",
        "version",
    ];
    assert_eq!(invalid_fields(""), want);
    assert_eq!(invalid_fields("# only a comment\n"), want);
    assert_eq!(invalid_fields("{}"), want);
}

#[test]
fn not_yaml_is_a_syntax_error_with_position() {
    let cases = [
        ("version: 1\nhostname: a\n  bad: indentation\n", 3),
        ("version: 1\nhostname: [unclosed\n", 3),
        ("version: 1\nuser: {name: \"alice}\n", 3),
        ("\tversion: 1\n", 1),
        // YAML forbids duplicate keys; serde_yaml points at the mapping.
        ("version: 1\nversion: 1\n", 1),
        ("@invalid\n", 1),
    ];
    for (text, want_line) in cases {
        match parse_plan(text) {
            Err(ParseError::Syntax {
                line,
                column,
                message,
            }) => {
                assert_eq!(line, want_line, "{text:?}: {message}");
                assert!(column >= 1, "{text:?}");
                // The position is carried apart from the message.
                let suffix = format!(" at line {line} column {column}");
                assert!(!message.ends_with(&suffix), "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
        // validate_text and check_text agree.
        assert!(matches!(
            validate_text(text, &catalog()),
            Err(ParseError::Syntax { .. })
        ));
        let problems = check_text(text, &catalog());
        assert_eq!(fields(&problems), vec![DOCUMENT_FIELD]);
        assert!(problems[0].message.contains(&format!("line {want_line}")));
    }
}

#[test]
fn validate_text_reports_structure_and_rules_together() {
    let cat = catalog();
    assert_eq!(validate_text(GOOD_YAML, &cat), Ok(vec![]));
    // An unknown key and a bad hostname: both.
    let text = format!("{}colour: blue\n", GOOD_YAML.replace("igos-desk", "Igos"));
    assert_eq!(
        fields(&validate_text(&text, &cat).expect("yaml")),
        vec!["colour", "hostname"]
    );
    // A missing field is reported once, as missing, not also as empty.
    let problems = validate_text(&edit_line("hostname", ""), &cat).expect("yaml");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].message.contains("missing"));
    // A broken list element is not also an unknown package group.
    let text = edit_line("package_groups", "package_groups: [core, 3, games]");
    assert_eq!(
        fields(&validate_text(&text, &cat).expect("yaml")),
        vec!["package_groups[1]", "package_groups[2]"]
    );
    // A broken mapping hides its children's rules.
    let problems = validate_text(&edit_line("user", "user: root"), &cat).expect("yaml");
    assert_eq!(fields(&problems), vec!["user"]);
}

/// The acceptance case of issue 2, at the library level.
#[test]
fn four_problems_each_with_its_field() {
    let text = GOOD_YAML
        .replace("igos-desk", "-bad-host-")
        .replace("Europe/Berlin", "Mars/Olympus")
        .replace("name: alice", "name: root")
        .replace("desktop]", "desktop, games]");
    let problems = validate_text(&text, &catalog()).expect("yaml");
    assert_eq!(
        fields(&problems),
        vec!["hostname", "package_groups[4]", "timezone", "user.name"]
    );
}
