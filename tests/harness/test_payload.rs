//! Harness: test_payload. Owner: issue 5 (not built yet).
