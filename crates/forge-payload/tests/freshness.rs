//! Adversarial corpus, freshness of the signed metadata (issue 9 item 16):
//! a validly signed index that expired, that claims to be made in the
//! future, that carries garbage dates or none at all (format 1) is refused,
//! naming the index and the date.

mod common;

use std::time::{Duration, SystemTime};

use common::{built, Scratch};
use forge_payload::freshness::{format_utc, parse_utc, unix_secs, Validity};
use forge_payload::{build, open_verified, open_verified_at, testkit, PayloadError};

const DAY: u64 = 86_400;

/// Re-signs `s`'s payload with the index valid for `validity`.
fn resign(s: &Scratch, validity: Validity) {
    let entries = build::scan(&s.payload).expect("scan");
    testkit::write_signed_valid(&s.payload, &entries, &s.secret, &validity);
}

fn index_refusal(s: &Scratch) -> String {
    match open_verified(&s.payload, &s.keyring()) {
        Err(PayloadError::Index { path, reason }) => {
            assert_eq!(path, s.index());
            reason
        }
        other => panic!("expected an index refusal, got {other:?}"),
    }
}

#[test]
fn a_fresh_index_carries_created_and_expires() {
    let s = built();
    let p = s.open();
    let v = p.validity();
    let now = unix_secs(SystemTime::now());
    assert!(v.created <= now && v.created + 60 >= now, "{v:?}");
    assert_eq!(v.expires - v.created, 90 * DAY);
    let record = String::from_utf8(p.pkm_record()).unwrap();
    assert!(
        record.starts_with(&format!("created = {}\n", format_utc(v.created))),
        "{record}"
    );
}

#[test]
fn an_expired_index_is_refused_naming_the_expiry() {
    let s = built();
    let now = unix_secs(SystemTime::now());
    let validity = Validity {
        created: now - 30 * DAY,
        expires: now - DAY,
    };
    resign(&s, validity);
    let before = s.snapshot();
    let err = open_verified(&s.payload, &s.keyring()).expect_err("expired index accepted");
    match &err {
        PayloadError::Expired { path, expires } => {
            assert_eq!(*path, s.index());
            assert_eq!(*expires, format_utc(now - DAY));
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("InterGenOS.db") && msg.contains(&format_utc(now - DAY)),
        "{msg}"
    );
    assert_eq!(before, s.snapshot(), "something was written");
    // The same payload, judged before its expiry, was fine.
    let then = SystemTime::now() - Duration::from_secs(2 * DAY);
    assert!(open_verified_at(&s.payload, &s.keyring(), then).is_ok());
}

#[test]
fn an_index_created_in_the_future_is_refused() {
    let s = built();
    let now = unix_secs(SystemTime::now());
    resign(
        &s,
        Validity {
            created: now + 2 * DAY,
            expires: now + 30 * DAY,
        },
    );
    match open_verified(&s.payload, &s.keyring()) {
        Err(PayloadError::NotYetValid { path, created }) => {
            assert_eq!(path, s.index());
            assert_eq!(created, format_utc(now + 2 * DAY));
        }
        other => panic!("expected NotYetValid, got {other:?}"),
    }
}

fn raw_index(s: &Scratch, format: u32, dates: &str) {
    let entries = build::scan(&s.payload).expect("scan");
    let json = format!(
        "{{\"format\": {format}, {dates} \"packages\": {}}}",
        serde_json::to_string(&entries).unwrap()
    );
    testkit::write_signed_raw_index(&s.payload, &json, &s.secret);
}

#[test]
fn an_index_without_expiry_is_refused() {
    let s = built();
    // What the previous format wrote: no dates at all.
    raw_index(&s, 1, "");
    let reason = index_refusal(&s);
    assert!(reason.contains("format 1"), "{reason}");
    raw_index(&s, 2, "\"created\": \"2026-01-01T00:00:00Z\",");
    let reason = index_refusal(&s);
    assert!(reason.contains("missing `expires`"), "{reason}");
}

#[test]
fn garbage_dates_are_refused() {
    let s = built();
    for (dates, needle) in [
        (
            "\"created\": \"yesterday\", \"expires\": \"2999-01-01T00:00:00Z\",",
            "invalid `created`",
        ),
        (
            "\"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2999-02-30T00:00:00Z\",",
            "invalid `expires`",
        ),
        (
            "\"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2999-01-01T00:00:00+01:00\",",
            "invalid `expires`",
        ),
        (
            "\"created\": \"2026-01-01T00:00:00Z\", \"expires\": 1234567890,",
            "invalid JSON",
        ),
        (
            "\"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2025-01-01T00:00:00Z\",",
            "is not after `created`",
        ),
    ] {
        raw_index(&s, 2, dates);
        let reason = index_refusal(&s);
        assert!(reason.contains(needle), "{dates}: {reason}");
    }
    // Well-formed dates in the same raw form are accepted.
    raw_index(
        &s,
        2,
        "\"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2999-01-01T00:00:00Z\",",
    );
    let p = s.open();
    assert_eq!(
        p.validity().expires,
        parse_utc("2999-01-01T00:00:00Z").unwrap()
    );
}
