//! Right-to-left text in the right order. Terminals draw cells left to
//! right and most do no bidirectional reordering, so a line that contains
//! right-to-left script (Arabic, Hebrew) is turned into its *visual* order
//! (Unicode bidi algorithm, `unicode-bidi`) before it is drawn. Lines
//! without right-to-left characters are returned unchanged.

use unicode_bidi::BidiInfo;

/// `text` (one line, logical order) in visual order.
pub fn visual(text: &str) -> String {
    if !text.chars().any(is_rtl_char) {
        return text.to_string();
    }
    let info = BidiInfo::new(text, None);
    let mut out = String::with_capacity(text.len());
    for para in &info.paragraphs {
        let (levels, runs) = info.visual_runs(para, para.range.clone());
        for run in runs {
            let part = &text[run.clone()];
            if levels[run.start].is_rtl() {
                // Reversed, with paired brackets mirrored (rule L4): a
                // terminal draws the glyph as it is.
                out.extend(part.chars().rev().map(mirror));
            } else {
                out.push_str(part);
            }
        }
    }
    out
}

/// The mirrored glyph of a bracket-like character.
fn mirror(c: char) -> char {
    match c {
        '(' => ')',
        ')' => '(',
        '[' => ']',
        ']' => '[',
        '{' => '}',
        '}' => '{',
        '<' => '>',
        '>' => '<',
        '«' => '»',
        '»' => '«',
        other => other,
    }
}

fn is_rtl_char(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
}

#[cfg(test)]
mod tests {
    use super::visual;

    #[test]
    fn ltr_text_is_unchanged() {
        assert_eq!(visual("Step 3 of 8"), "Step 3 of 8");
    }

    #[test]
    fn arabic_is_drawn_right_to_left() {
        // "سلام" logical: س ل ا م; visual on a left-to-right grid: م ا ل س.
        assert_eq!(visual("سلام"), "مالس");
        // Numbers inside stay left to right.
        let v = visual("الخطوة 3 من 8");
        assert!(v.contains('3') && v.contains('8'));
        assert!(v.find('8') < v.find('3'), "{v}");
    }

    #[test]
    fn brackets_in_right_to_left_text_are_mirrored() {
        // "تلقائي (قديم)" logical; visual: ")ميدق( يئاقلت" would show the
        // brackets backwards; mirrored they read "(ميدق) يئاقلت".
        assert_eq!(visual("تلقائي (قديم)"), "(ميدق) يئاقلت");
    }
}
