//! The first pass over a plan text: YAML anchors (`&a`) and aliases (`*a`)
//! are refused before any value is built (issue 9, item 1). An alias makes
//! the loader replay the anchored node, so 64 KiB of `[*a, *a, …]` expands
//! to ~10⁸ values; `install.yaml` never needs either.
//!
//! The scan walks the event stream of the very parser serde_yaml uses
//! (`unsafe-libyaml`), so it sees exactly the anchors and aliases the loader
//! would expand, and it costs one linear pass that keeps no event. A text the
//! parser rejects before any anchor is left to serde_yaml, which stops at the
//! same place and reports its usual syntax error.
//!
//! This is the one place forge-proto uses `unsafe`: the parser's API is
//! C-shaped (initialise in place, parse into an out-parameter, free by
//! hand). Both allocations are owned by guards that free them on drop, the
//! parser is boxed so its address stays fixed while it reads `text`, and
//! `text` outlives the parser (both live in [`first_anchor`]).

use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_yaml;

/// Where an anchor or alias starts (1-based, as serde_yaml counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    pub line: usize,
    pub column: usize,
}

/// The parser, freed on drop.
struct ParserGuard(Box<MaybeUninit<unsafe_yaml::yaml_parser_t>>);

impl ParserGuard {
    fn ptr(&mut self) -> *mut unsafe_yaml::yaml_parser_t {
        self.0.as_mut_ptr()
    }
}

impl Drop for ParserGuard {
    fn drop(&mut self) {
        // SAFETY: only built after yaml_parser_initialize succeeded.
        unsafe { unsafe_yaml::yaml_parser_delete(self.ptr()) }
    }
}

/// One parsed event, freed on drop.
struct EventGuard(MaybeUninit<unsafe_yaml::yaml_event_t>);

impl Drop for EventGuard {
    fn drop(&mut self) {
        // SAFETY: only built after yaml_parser_parse succeeded, which
        // initialised the event.
        unsafe { unsafe_yaml::yaml_event_delete(self.0.as_mut_ptr()) }
    }
}

/// The position of the first anchor or alias in `text`, if any. `None` also
/// when the text stops being YAML before one: serde_yaml reports that.
pub(super) fn first_anchor(text: &str) -> Option<Position> {
    let mut raw = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
    // SAFETY: initialize writes the whole parser; on failure nothing is owned.
    if unsafe { unsafe_yaml::yaml_parser_initialize(raw.as_mut_ptr()) }.fail {
        return None;
    }
    let mut parser = ParserGuard(raw);
    // SAFETY: `text` outlives `parser` (dropped at the end of this function)
    // and the boxed parser does not move.
    unsafe {
        unsafe_yaml::yaml_parser_set_encoding(parser.ptr(), unsafe_yaml::YAML_UTF8_ENCODING);
        unsafe_yaml::yaml_parser_set_input_string(parser.ptr(), text.as_ptr(), text.len() as u64);
    }
    loop {
        let mut raw = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
        // SAFETY: the parser is initialised; on success the event is.
        if unsafe { unsafe_yaml::yaml_parser_parse(parser.ptr(), raw.as_mut_ptr()) }.fail {
            return None;
        }
        let event = EventGuard(raw);
        // SAFETY: the event is initialised; each union member is read only
        // for the event type that carries it.
        let (kind, anchor, mark) = unsafe {
            let e = &*event.0.as_ptr();
            let anchor = match e.type_ {
                unsafe_yaml::YAML_ALIAS_EVENT => e.data.alias.anchor,
                unsafe_yaml::YAML_SCALAR_EVENT => e.data.scalar.anchor,
                unsafe_yaml::YAML_SEQUENCE_START_EVENT => e.data.sequence_start.anchor,
                unsafe_yaml::YAML_MAPPING_START_EVENT => e.data.mapping_start.anchor,
                _ => std::ptr::null_mut(),
            };
            (e.type_, anchor, e.start_mark)
        };
        if kind == unsafe_yaml::YAML_STREAM_END_EVENT {
            return None;
        }
        if kind == unsafe_yaml::YAML_ALIAS_EVENT || !anchor.is_null() {
            return Some(Position {
                line: mark.line as usize + 1,
                column: mark.column as usize + 1,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    #[test]
    fn finds_anchors_and_aliases_where_they_start() {
        assert_eq!(first_anchor("a: &x 1\n"), at(1, 4));
        assert_eq!(first_anchor("a: 1\nb: *x\n"), at(2, 4));
        assert_eq!(first_anchor("a:\n  - &s [1]\n"), at(2, 5));
        assert_eq!(first_anchor("a: 1\n<<: *m\n"), at(2, 5));
    }

    #[test]
    fn quoted_and_plain_text_is_not_an_anchor() {
        assert_eq!(
            first_anchor("a: '&x'\nb: \"*y\"\nc: x&y*z\n# &c *d\n"),
            None
        );
        assert_eq!(first_anchor(""), None);
        // Not YAML before any anchor: left to serde_yaml.
        assert_eq!(first_anchor("a: [\n"), None);
    }
}
