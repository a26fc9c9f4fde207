//! Shows validation problems inline: a label under a field that lists the
//! problems of that field (or is hidden), and marks the field's row with
//! the `error` style class. Screenshots and tests read these labels.

use gtk::prelude::*;

use forge_proto::Problem;

/// Sets `label` to the messages of `problems` whose field starts with
/// `field` (hidden when none) and toggles `error` on `row`. Returns whether
/// there was a problem.
pub fn show_problems(
    label: &gtk::Label,
    row: Option<&gtk::Widget>,
    problems: &[Problem],
    field: &str,
) -> bool {
    let msgs: Vec<&str> = problems
        .iter()
        .filter(|p| {
            field.is_empty() || p.field == field || p.field.starts_with(&format!("{field}."))
        })
        .map(|p| p.message.as_str())
        .collect();
    let text = msgs.join("\n");
    label.set_text(&text);
    label.set_visible(!msgs.is_empty());
    if let Some(row) = row {
        if msgs.is_empty() {
            row.remove_css_class("error");
        } else {
            row.add_css_class("error");
        }
        // Screen readers hear the problem with the field.
        crate::a11y::set_description(row, &text);
    }
    !msgs.is_empty()
}
