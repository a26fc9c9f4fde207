//! Property tests: random text and mutations of a valid plan (deleted,
//! duplicated and swapped lines, swapped values, random bytes, changed
//! indentation) never make parsing or validation panic, and the one-step
//! and two-step APIs always agree.

mod common;

use common::{catalog, GOOD_CANONICAL};
use forge_proto::validate::{check_text, parse_plan, validate_plan, validate_text, ParseError};
use proptest::prelude::*;

/// Runs every entry point on `text` and checks they agree with each other.
fn check_consistent(text: &str) -> Result<(), TestCaseError> {
    let cat = catalog();
    let parsed = parse_plan(text);
    let validated = validate_text(text, &cat);
    let checked = check_text(text, &cat);
    match (&parsed, &validated) {
        (Ok(plan), Ok(problems)) => {
            prop_assert_eq!(&validate_plan(plan, &cat), problems);
            // Whatever parsed re-serializes to text that parses to the same plan.
            let again = parse_plan(&plan.to_canonical_yaml());
            prop_assert_eq!(again.as_ref().ok(), Some(plan));
        }
        (Err(ParseError::Invalid(structural)), Ok(problems)) => {
            prop_assert!(!structural.is_empty());
            prop_assert!(problems.len() >= structural.len());
            prop_assert_eq!(&problems[..structural.len()], &structural[..]);
        }
        (Err(ParseError::Syntax { .. }), Err(ParseError::Syntax { .. })) => {
            prop_assert_eq!(checked.len(), 1);
        }
        (p, v) => prop_assert!(false, "parse_plan {:?} but validate_text {:?}", p, v),
    }
    if let Ok(problems) = &validated {
        prop_assert_eq!(&checked, problems);
    }
    for p in &checked {
        prop_assert!(!p.field.is_empty());
        prop_assert!(!p.message.is_empty());
        prop_assert!(!p.message.contains('\n'), "multi-line message {:?}", p);
        prop_assert!(!p.field.contains('\n'), "multi-line field {:?}", p);
    }
    Ok(())
}

/// One way of damaging a valid plan.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    SwapValues(usize, usize),
    InsertBytes(usize, Vec<u8>),
    ReplaceValue(usize, String),
    Indent(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = 0usize..64;
    prop_oneof![
        idx.clone().prop_map(Mutation::DeleteLine),
        idx.clone().prop_map(Mutation::DuplicateLine),
        (idx.clone(), idx.clone()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (idx.clone(), idx.clone()).prop_map(|(a, b)| Mutation::SwapValues(a, b)),
        (0usize..2048, proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Mutation::InsertBytes(a, b)),
        (
            idx.clone(),
            prop_oneof![
                Just("".to_string()),
                Just("[".to_string()),
                Just("{a: [b, {c: d}]}".to_string()),
                Just("*x".to_string()),
                Just("&x y".to_string()),
                Just("!!binary aGk=".to_string()),
                Just("99999999999999999999999".to_string()),
                Just("-.inf".to_string()),
                Just("|\n  block".to_string()),
                "\\PC{0,12}",
            ]
        )
            .prop_map(|(a, v)| Mutation::ReplaceValue(a, v)),
        (idx.clone(), 0usize..6).prop_map(|(a, n)| Mutation::Indent(a, n)),
        (0usize..2048).prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len();
    let value_of = |l: &str| l.split_once(": ").map(|(_, v)| v.to_string());
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i % n);
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
        Mutation::SwapValues(a, b) => {
            let (a, b) = (a % n, b % n);
            if let (Some(va), Some(vb)) = (value_of(&lines[a]), value_of(&lines[b])) {
                lines[a] = lines[a].replacen(&va, &vb, 1);
                lines[b] = lines[b].replacen(&vb, &va, 1);
            }
        }
        Mutation::InsertBytes(at, bytes) => {
            let mut raw = lines.join("\n").into_bytes();
            let at = at % (raw.len() + 1);
            raw.splice(at..at, bytes.iter().copied());
            return String::from_utf8_lossy(&raw).into_owned();
        }
        Mutation::ReplaceValue(i, v) => {
            let i = i % n;
            if let Some((k, _)) = lines[i].split_once(": ") {
                lines[i] = format!("{k}: {v}");
            } else {
                lines[i] = format!("{}{v}", lines[i]);
            }
        }
        Mutation::Indent(i, by) => {
            let i = i % n;
            lines[i] = format!("{}{}", " ".repeat(*by), lines[i]);
        }
        Mutation::Truncate(at) => {
            let joined = lines.join("\n");
            let mut at = at % (joined.len() + 1);
            while !joined.is_char_boundary(at) {
                at -= 1;
            }
            return joined[..at].to_string();
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        check_consistent(&text)?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_consistent(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_:{}\\[\\], \n\t'\"#&*!|>@%0-9.-]{0,200}") {
        check_consistent(&text)?;
    }

    #[test]
    fn mutated_plans_never_panic(muts in proptest::collection::vec(mutation(), 1..5)) {
        let mut text = GOOD_CANONICAL.to_string();
        for m in &muts {
            if text.lines().count() == 0 {
                break;
            }
            text = apply(&text, m);
        }
        check_consistent(&text)?;
    }
}

#[test]
fn hostile_documents_do_not_hang_or_panic() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let long_line = format!("hostname: {}\n", "a".repeat(1 << 20));
    for text in [
        deep.as_str(),
        laughs,
        long_line.as_str(),
        "\u{feff}",
        "\0",
        "---\n...\n",
    ] {
        let start = std::time::Instant::now();
        check_consistent(text).expect("consistent");
        assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    }
}
