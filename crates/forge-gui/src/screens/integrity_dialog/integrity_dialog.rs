//! The integrity dialog, opened on the job's `IntegrityFailed`: the files
//! that do not match the signed manifest, and the exact phrase to type.
//! The entry refuses paste by every route ([`PasteGuard`]); Install Anyway
//! is enabled only when the typed text equals the phrase, and emits
//! `override` (the window calls `OverrideIntegrity`, polkit asks again).
//! Stop Installation emits `stop` (the window calls `Cancel`).

use std::cell::{OnceCell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use forge_proto::i18n::{tr, trf};

use super::PasteGuard;

use crate::model::Mismatch;

mod imp {
    use super::*;
    use std::sync::OnceLock;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/intergenos/Forge/screens/integrity_dialog/integrity_dialog.ui")]
    pub struct IntegrityDialog {
        #[template_child]
        pub body_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub mismatch_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub phrase_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub phrase_entry: TemplateChild<gtk::Entry>,
        #[template_child]
        pub refused_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub error_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub stop_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub continue_button: TemplateChild<gtk::Button>,
        pub phrase: RefCell<String>,
        pub guard: OnceCell<PasteGuard>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for IntegrityDialog {
        const NAME: &'static str = "ForgeIntegrityDialog";
        type Type = super::IntegrityDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for IntegrityDialog {
        fn signals() -> &'static [glib::subclass::Signal] {
            static S: OnceLock<Vec<glib::subclass::Signal>> = OnceLock::new();
            S.get_or_init(|| {
                vec![
                    glib::subclass::Signal::builder("override")
                        .param_types([String::static_type()])
                        .build(),
                    glib::subclass::Signal::builder("stop").build(),
                ]
            })
        }
    }
    impl WidgetImpl for IntegrityDialog {}
    impl WindowImpl for IntegrityDialog {}
    impl AdwWindowImpl for IntegrityDialog {}
}

glib::wrapper! {
    pub struct IntegrityDialog(ObjectSubclass<imp::IntegrityDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
                    gtk::Root, gtk::ShortcutManager;
}

fn short_hash(h: &str) -> String {
    if h.chars().count() > 16 {
        format!("{}…", h.chars().take(16).collect::<String>())
    } else if h.is_empty() {
        tr("missing")
    } else {
        h.to_string()
    }
}

impl IntegrityDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, mismatches: &[Mismatch], phrase: &str) -> Self {
        let d: IntegrityDialog = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        d.setup(mismatches, phrase);
        d
    }

    /// Without a parent window (UI tests).
    #[cfg(feature = "autopilot")]
    pub fn new_standalone(mismatches: &[Mismatch], phrase: &str) -> Self {
        let d: IntegrityDialog = glib::Object::new();
        d.setup(mismatches, phrase);
        d
    }

    fn setup(&self, mismatches: &[Mismatch], phrase: &str) {
        let imp = self.imp();
        *imp.phrase.borrow_mut() = phrase.to_string();
        imp.body_label.set_text(&crate::util::fill(
            &forge_proto::i18n::ngettext(
                "{count} file does not match the signed release manifest. It may be damaged or may have been tampered with. Installing it could compromise this computer.",
                "{count} files do not match the signed release manifest. They may be damaged or may have been tampered with. Installing them could compromise this computer.",
                u32::try_from(mismatches.len() as u64).unwrap_or(u32::MAX),
            ),
            mismatches.len() as u64,
            &[],
        ));
        for Mismatch {
            path,
            expected,
            actual,
        } in mismatches
        {
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(path).as_str())
                .subtitle(
                    glib::markup_escape_text(&trf(
                        "expected {expected}, found {actual}",
                        &[
                            ("expected", &short_hash(expected)),
                            ("actual", &short_hash(actual)),
                        ],
                    ))
                    .as_str(),
                )
                .build();
            row.set_tooltip_text(Some(&format!("{expected}\n{actual}")));
            imp.mismatch_list.append(&row);
        }
        imp.phrase_label.set_text(phrase);
        crate::a11y::set_label(
            &*imp.phrase_label,
            &trf("Phrase to type: {phrase}", &[("phrase", phrase)]),
        );
        let guard = PasteGuard::install(&imp.phrase_entry);
        guard.connect_refused(glib::clone!(
            #[weak(rename_to = d)]
            self,
            move || {
                d.imp().refused_label.set_visible(true);
                crate::a11y::set_description(
                    &*d.imp().refused_label,
                    &tr("Pasting is not allowed here. Type the phrase."),
                );
            }
        ));
        let _ = imp.guard.set(guard);
        imp.phrase_entry.connect_changed(glib::clone!(
            #[weak(rename_to = d)]
            self,
            move |e| {
                let ok = e.text() == *d.imp().phrase.borrow();
                d.imp().continue_button.set_sensitive(ok);
                d.imp().error_label.set_visible(false);
            }
        ));
        imp.continue_button.connect_clicked(glib::clone!(
            #[weak(rename_to = d)]
            self,
            move |_| {
                let typed = d.imp().phrase_entry.text().to_string();
                if typed == *d.imp().phrase.borrow() {
                    d.imp().continue_button.set_sensitive(false);
                    d.emit_by_name::<()>("override", &[&typed]);
                }
            }
        ));
        imp.stop_button.connect_clicked(glib::clone!(
            #[weak(rename_to = d)]
            self,
            move |_| {
                d.emit_by_name::<()>("stop", &[]);
                d.close();
            }
        ));
        crate::a11y::name_controls(self);
        // The phrase entry has the keyboard focus when the dialog appears.
        self.connect_map(|d| {
            d.imp().phrase_entry.grab_focus();
        });
    }

    pub fn connect_override<F: Fn(String) + 'static>(&self, f: F) {
        self.connect_local("override", false, move |args| {
            if let Some(Ok(s)) = args.get(1).map(|v| v.get::<String>()) {
                f(s);
            }
            None
        });
    }

    pub fn connect_stop<F: Fn() + 'static>(&self, f: F) {
        self.connect_local("stop", false, move |_| {
            f();
            None
        });
    }

    /// The daemon refused the override: say why and allow another try.
    pub fn show_error(&self, message: &str) {
        let imp = self.imp();
        imp.error_label.set_text(message);
        imp.error_label.set_visible(true);
        let ok = imp.phrase_entry.text() == *imp.phrase.borrow();
        imp.continue_button.set_sensitive(ok);
    }
}

/// Driving the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl IntegrityDialog {
    pub fn phrase(&self) -> String {
        self.imp().phrase.borrow().clone()
    }
    pub fn entry(&self) -> gtk::Entry {
        self.imp().phrase_entry.get()
    }
    pub fn continue_button(&self) -> gtk::Button {
        self.imp().continue_button.get()
    }
    pub fn refused_count(&self) -> u32 {
        self.imp().guard.get().map(|g| g.refused()).unwrap_or(0)
    }
    pub fn mismatch_count(&self) -> usize {
        let mut n = 0;
        let mut c = self.imp().mismatch_list.first_child();
        while let Some(w) = c {
            n += 1;
            c = w.next_sibling();
        }
        n
    }
}
