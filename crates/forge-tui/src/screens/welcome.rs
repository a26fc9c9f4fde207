//! Welcome: what will happen, in two sentences, and the release being
//! installed. Always complete; Next has the focus.

use forge_proto::i18n::tr;

use crate::app::App;
use crate::widgets::draw::Body;

pub fn render(app: &App, b: &mut Body) {
    b.text(
        &tr("This assistant asks a few questions, then installs InterGenOS on the disk you choose, replacing everything on it. Every package is checked against the signed release before anything is written."),
        app.theme.base(),
    );
    b.blank();
    b.text(
        &format!("{}: {}", tr("Release"), app.wizard.release()),
        app.theme.base(),
    );
    b.blank();
    b.text(
        &tr("Press Next to begin. You can go back at any step; nothing is changed until you press Install."),
        app.theme.dim(),
    );
    if let crate::app::Mode::SavePlan(path) = &app.mode {
        b.blank();
        b.text(
            &forge_proto::i18n::trf(
                "At the end, the plan is saved to {file} instead of being installed.",
                &[("file", &path.display().to_string())],
            ),
            app.theme.warning(),
        );
    }
}
