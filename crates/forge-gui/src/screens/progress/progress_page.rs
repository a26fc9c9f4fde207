//! Progress: the 13 phases as a list with their states, the overall bar,
//! the current message, an expandable log, and Cancel while it is safe
//! (before the disk is partitioned). Fed with [`JobEvent`]s, so it can be
//! driven without a daemon.
//!
//! Screen readers: GTK 4.8 has no `gtk_accessible_announce`. The status
//! line is a label with the `status` accessible role (AT-SPI "status bar",
//! which Orca treats as a live region and reads on change); each phase
//! change rewrites its text and accessible label and description.

use std::cell::{Cell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use forge_proto::i18n::{tr, trf};
use forge_proto::Phase;

use crate::model::JobEvent;

/// Display state of one phase row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseState {
    Pending,
    Running,
    Done,
    Failed,
    Waiting,
}

impl PhaseState {
    fn icon(self) -> &'static str {
        match self {
            PhaseState::Pending => "radio-symbolic",
            PhaseState::Running => "media-playback-start-symbolic",
            PhaseState::Done => "object-select-symbolic",
            PhaseState::Failed => "dialog-error-symbolic",
            PhaseState::Waiting => "dialog-warning-symbolic",
        }
    }

    fn text(self) -> String {
        match self {
            PhaseState::Pending => tr("Waiting"),
            PhaseState::Running => tr("In progress"),
            PhaseState::Done => tr("Done"),
            PhaseState::Failed => tr("Failed"),
            PhaseState::Waiting => tr("Needs your decision"),
        }
    }
}

mod imp {
    use super::*;
    use std::sync::OnceLock;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/progress/progress_page.ui")]
    #[properties(wrapper_type = super::ProgressPage)]
    pub struct ProgressPage {
        #[property(get)]
        pub complete: Cell<bool>,
        #[template_child]
        pub title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub bar: TemplateChild<gtk::ProgressBar>,
        #[template_child]
        pub status_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub phase_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub log_expander: TemplateChild<gtk::Expander>,
        #[template_child]
        pub log_view: TemplateChild<gtk::TextView>,
        #[template_child]
        pub cancel_hint: TemplateChild<gtk::Label>,
        #[template_child]
        pub cancel_button: TemplateChild<gtk::Button>,
        /// (row, icon, state) per phase, in `Phase::ALL` order.
        pub rows: RefCell<Vec<(adw::ActionRow, gtk::Image, PhaseState)>>,
        pub fraction: Cell<f64>,
        pub current: Cell<Option<usize>>,
        pub finished: Cell<bool>,
        pub warnings: Cell<u32>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ProgressPage {
        const NAME: &'static str = "ForgeProgressPage";
        type Type = super::ProgressPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ProgressPage {
        fn signals() -> &'static [glib::subclass::Signal] {
            static S: OnceLock<Vec<glib::subclass::Signal>> = OnceLock::new();
            S.get_or_init(|| vec![glib::subclass::Signal::builder("cancel-requested").build()])
        }
    }
    impl WidgetImpl for ProgressPage {}
    impl BinImpl for ProgressPage {}
}

glib::wrapper! {
    pub struct ProgressPage(ObjectSubclass<imp::ProgressPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for ProgressPage {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressPage {
    pub fn new() -> Self {
        let p: ProgressPage = glib::Object::new();
        for phase in Phase::ALL {
            let row = adw::ActionRow::builder().title(phase.label()).build();
            let icon = crate::a11y::presentation_icon(PhaseState::Pending.icon());
            row.add_prefix(&icon);
            row.set_subtitle(&PhaseState::Pending.text());
            p.imp().phase_list.append(&row);
            p.imp()
                .rows
                .borrow_mut()
                .push((row, icon, PhaseState::Pending));
        }
        p.imp().cancel_button.connect_clicked(glib::clone!(
            #[weak]
            p,
            move |b| {
                b.set_sensitive(false);
                p.set_status(&tr("Cancelling at the next safe point…"));
                p.emit_by_name::<()>("cancel-requested", &[]);
            }
        ));
        p.update_cancel();
        p
    }

    pub fn connect_cancel_requested<F: Fn() + 'static>(&self, f: F) {
        self.connect_local("cancel-requested", false, move |_| {
            f();
            None
        });
    }

    fn set_row(&self, i: usize, st: PhaseState) {
        let mut rows = self.imp().rows.borrow_mut();
        if let Some((row, icon, state)) = rows.get_mut(i) {
            *state = st;
            icon.set_icon_name(Some(st.icon()));
            row.set_subtitle(&st.text());
        }
    }

    /// The live status line: text, accessible label and description.
    fn set_status(&self, text: &str) {
        let l = &self.imp().status_label;
        l.set_text(text);
        crate::a11y::set_label(&**l, text);
        crate::a11y::set_description(&**l, text);
    }

    fn log(&self, line: &str) {
        let buf = self.imp().log_view.buffer();
        let mut end = buf.end_iter();
        buf.insert(&mut end, line);
        buf.insert(&mut end, "\n");
    }

    fn set_fraction(&self, f: f64) {
        let imp = self.imp();
        let f = f.clamp(0.0, 1.0).max(imp.fraction.get());
        imp.fraction.set(f);
        imp.bar.set_fraction(f);
        imp.bar.set_text(Some(&format!("{:.0} %", f * 100.0)));
    }

    fn update_cancel(&self) {
        let imp = self.imp();
        let idx = imp.current.get().unwrap_or(0);
        let safe = !imp.finished.get() && idx < Phase::Partition.index() as usize;
        imp.cancel_button.set_sensitive(safe);
        imp.cancel_hint.set_text(&if imp.finished.get() {
            String::new()
        } else if safe {
            tr("You can cancel until the disk is partitioned. Nothing has been written yet.")
        } else {
            tr("The disk is being written; cancelling now would leave it unusable.")
        });
    }

    /// Applies one job event to the screen.
    pub fn handle_event(&self, ev: &JobEvent) {
        let imp = self.imp();
        match ev {
            JobEvent::PhaseStarted(phase) => {
                let i = phase.index() as usize;
                for j in 0..i {
                    let st = imp.rows.borrow().get(j).map(|r| r.2);
                    if matches!(
                        st,
                        Some(PhaseState::Pending | PhaseState::Running | PhaseState::Waiting)
                    ) {
                        self.set_row(j, PhaseState::Done);
                    }
                }
                self.set_row(i, PhaseState::Running);
                imp.current.set(Some(i));
                let label = phase.label();
                let text = trf(
                    "Step {n} of {total}: {phase}",
                    &[
                        ("n", &(i + 1).to_string()),
                        ("total", &Phase::ALL.len().to_string()),
                        ("phase", &label),
                    ],
                );
                self.set_status(&text);
                self.log(&format!("== {text}"));
            }
            JobEvent::PhaseFinished(phase) => {
                self.set_row(phase.index() as usize, PhaseState::Done);
            }
            JobEvent::Progress { fraction, message } => {
                self.set_fraction(*fraction);
                if !message.is_empty() {
                    imp.status_label.set_text(message);
                    self.log(message);
                }
            }
            JobEvent::Warning(msg) => {
                imp.warnings.set(imp.warnings.get() + 1);
                self.log(&trf("Warning: {message}", &[("message", msg)]));
            }
            JobEvent::IntegrityFailed { mismatches: m, .. } => {
                self.set_row(Phase::Verify.index() as usize, PhaseState::Waiting);
                let text = crate::util::fill(
                    &forge_proto::i18n::ngettext(
                        "{count} package failed verification. The installation is paused until you decide.",
                        "{count} packages failed verification. The installation is paused until you decide.",
                        u32::try_from(m.len() as u64).unwrap_or(u32::MAX),
                    ),
                    m.len() as u64,
                    &[],
                );
                self.set_status(&text);
                for x in m {
                    self.log(&trf(
                        "Mismatch: {path} (expected {expected}, found {actual})",
                        &[
                            ("path", &x.path),
                            ("expected", &x.expected),
                            ("actual", &x.actual),
                        ],
                    ));
                }
            }
            JobEvent::StateChanged(s) => {
                self.log(&trf("State: {state}", &[("state", s.as_str())]));
            }
            JobEvent::Finished {
                success,
                phase_completed,
                error,
                ..
            } => {
                imp.finished.set(true);
                if *success {
                    for j in 0..Phase::ALL.len() {
                        self.set_row(j, PhaseState::Done);
                    }
                    self.set_fraction(1.0);
                    self.set_status(&tr("Installation finished."));
                } else {
                    let failed = phase_completed.map_or(0, |p| p.index() as usize + 1);
                    for j in 0..failed.min(Phase::ALL.len()) {
                        self.set_row(j, PhaseState::Done);
                    }
                    if failed < Phase::ALL.len() {
                        self.set_row(failed, PhaseState::Failed);
                    }
                    self.set_status(&tr("Installation failed."));
                    if !error.is_empty() {
                        self.log(error);
                    }
                }
            }
        }
        self.update_cancel();
    }
}

/// Reading the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl ProgressPage {
    pub fn phase_states(&self) -> Vec<PhaseState> {
        self.imp().rows.borrow().iter().map(|r| r.2).collect()
    }
    pub fn status_text(&self) -> String {
        self.imp().status_label.text().to_string()
    }
    pub fn fraction(&self) -> f64 {
        self.imp().fraction.get()
    }
    pub fn cancel_enabled(&self) -> bool {
        self.imp().cancel_button.is_sensitive()
    }
    pub fn log_text(&self) -> String {
        let b = self.imp().log_view.buffer();
        b.text(&b.start_iter(), &b.end_iter(), false).to_string()
    }
    pub fn log_expander(&self) -> gtk::Expander {
        self.imp().log_expander.get()
    }
}
