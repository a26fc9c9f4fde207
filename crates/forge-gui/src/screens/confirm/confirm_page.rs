//! Confirm: everything chosen, the disk to be erased named again with its
//! model and size, a trial-run switch, and the destructive Install button.
//! Pressing it emits `install-requested`; the window calls the daemon, and
//! polkit's password prompt comes from that call.

use std::cell::{Cell, OnceCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use forge_proto::i18n::{tr, trf};

use crate::client::ClientError;
use crate::state::{ForgeState, Step};
use crate::util;

use crate::screens::{ForgeStep, ForgeStepExt};

mod imp {
    use super::*;
    use crate::screens::step::ForgeStepImpl;
    use std::sync::OnceLock;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/confirm/confirm_page.ui")]
    #[properties(wrapper_type = super::ConfirmPage)]
    pub struct ConfirmPage {
        #[property(get, override_interface = ForgeStep)]
        pub complete: Cell<bool>,
        #[template_child]
        pub language_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub keyboard_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub timezone_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub user_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub root_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub hostname_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub software_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub boot_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub disk_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub dry_run_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub problems_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub error_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub error_details: TemplateChild<gtk::Expander>,
        #[template_child]
        pub error_detail_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub install_button: TemplateChild<gtk::Button>,
        pub state: OnceCell<ForgeState>,
        pub busy: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConfirmPage {
        const NAME: &'static str = "ForgeConfirmPage";
        type Type = super::ConfirmPage;
        type ParentType = adw::Bin;
        type Interfaces = (ForgeStep,);

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_instance_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConfirmPage {
        fn signals() -> &'static [glib::subclass::Signal] {
            static S: OnceLock<Vec<glib::subclass::Signal>> = OnceLock::new();
            S.get_or_init(|| vec![glib::subclass::Signal::builder("install-requested").build()])
        }
    }
    impl WidgetImpl for ConfirmPage {}
    impl BinImpl for ConfirmPage {}
    impl ForgeStepImpl for ConfirmPage {
        /// The summary is filled when the step is shown.
        fn enter(&self) {
            self.obj().refresh();
        }
    }
}

glib::wrapper! {
    pub struct ConfirmPage(ObjectSubclass<imp::ConfirmPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, ForgeStep;
}

#[gtk::template_callbacks]
impl ConfirmPage {
    #[template_callback]
    fn install_clicked(&self) {
        self.emit_by_name::<()>("install-requested", &[]);
    }

    #[template_callback]
    fn dry_run_toggled(&self) {
        let on = self.imp().dry_run_switch.is_active();
        if let Some(s) = self.imp().state.get() {
            s.update(|c| c.dry_run = on);
        }
    }
}

impl ConfirmPage {
    pub fn new(state: &ForgeState) -> Self {
        let p: ConfirmPage = glib::Object::new();
        let _ = p.imp().state.set(state.clone());
        state.connect_changed(glib::clone!(
            #[weak]
            p,
            move |_| {
                p.refresh();
            }
        ));
        p.refresh();
        p
    }

    fn state(&self) -> ForgeState {
        self.imp().state.get().cloned().unwrap_or_default()
    }

    pub fn connect_install_requested<F: Fn() + 'static>(&self, f: F) {
        self.connect_local("install-requested", false, move |_| {
            f();
            None
        });
    }

    /// Fills the summary from the state and re-checks everything.
    pub fn refresh(&self) {
        let imp = self.imp();
        let state = self.state();
        let c = state.choices().clone();
        let catalog = state.catalog();
        let names = state.lang_names();
        imp.language_row
            .set_subtitle(&format!("{} ({})", names.locale_name(&c.locale), c.locale));
        let layout_desc = catalog
            .layouts
            .get(&c.layout)
            .map(|l| l.description.clone())
            .unwrap_or_else(|| c.layout.clone());
        let variant_desc = catalog
            .layouts
            .get(&c.layout)
            .and_then(|l| l.variants.get(&c.variant).cloned())
            .unwrap_or_default();
        imp.keyboard_row.set_subtitle(&if variant_desc.is_empty() {
            layout_desc
        } else {
            format!("{layout_desc} — {variant_desc}")
        });
        imp.timezone_row.set_subtitle(&c.timezone.replace('_', " "));
        let role = if c.admin {
            tr("administrator")
        } else {
            tr("standard user")
        };
        imp.user_row.set_subtitle(&glib::markup_escape_text(&trf(
            "{full_name} ({name}), {role}",
            &[
                ("full_name", &c.full_name),
                ("name", &c.user_name),
                ("role", &role),
            ],
        )));
        imp.root_row.set_subtitle(&if c.root_same_as_user {
            trf("Same as {name}'s password", &[("name", &c.user_name)])
        } else {
            tr("Its own password")
        });
        imp.hostname_row.set_subtitle(&c.hostname);
        let plan = state.plan();
        let labels: Vec<String> = plan
            .package_groups
            .iter()
            .map(|g| util::group_label(g))
            .collect();
        imp.software_row.set_subtitle(&trf(
            "{groups} — {size} on disk",
            &[
                ("groups", &labels.join(", ")),
                ("size", &util::format_size(state.required_bytes())),
            ],
        ));
        let boot = match c.boot {
            forge_proto::BootMode::Auto => trf(
                "{mode} (detected)",
                &[("mode", &util::boot_mode_label(state.detected_boot()))],
            ),
            m => util::boot_mode_label(m),
        };
        imp.boot_row
            .set_subtitle(&format!("{boot} · {}", c.filesystem.as_str()));
        match state.chosen_disk() {
            Some(d) => {
                let model = if d.model.trim().is_empty() {
                    d.device.clone()
                } else {
                    d.model.trim().to_string()
                };
                imp.disk_row.set_title(&glib::markup_escape_text(&trf(
                    "{model}, {size}",
                    &[("model", &model), ("size", &util::format_size(d.size))],
                )));
                imp.disk_row.set_subtitle(&glib::markup_escape_text(&trf(
                    "Everything on {device} will be erased.",
                    &[("device", &d.device)],
                )));
            }
            None => {
                imp.disk_row.set_title(&tr("No disk chosen"));
                imp.disk_row.set_subtitle("");
            }
        }
        imp.dry_run_switch.set_active(c.dry_run);
        imp.install_button.set_label(&if c.dry_run {
            tr("_Start Trial Run")
        } else {
            tr("_Erase Disk and Install")
        });
        crate::a11y::name_button(&imp.install_button);
        let problems = state.step_problems(Step::Confirm);
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        imp.problems_label.set_text(&text.join("\n"));
        imp.problems_label.set_visible(!problems.is_empty());
        let complete = problems.is_empty();
        imp.install_button
            .set_sensitive(complete && !imp.busy.get());
        if complete != imp.complete.get() {
            imp.complete.set(complete);
            self.notify_complete();
        }
    }

    /// While the daemon (and polkit) answer: spinner, button insensitive.
    pub fn set_busy(&self, busy: bool) {
        let imp = self.imp();
        imp.busy.set(busy);
        imp.spinner.set_visible(busy);
        imp.spinner.set_spinning(busy);
        if busy {
            imp.error_label.set_visible(false);
            imp.error_details.set_visible(false);
        }
        self.refresh();
    }

    /// Shows why Install failed: short message, details on request.
    pub fn show_error(&self, e: &ClientError) {
        let imp = self.imp();
        imp.error_label.set_text(&e.message);
        imp.error_label.set_visible(true);
        imp.error_detail_label.set_text(&e.detail);
        imp.error_details.set_visible(!e.detail.is_empty());
        crate::a11y::set_label(&*imp.error_label, &e.message);
    }
}

/// Driving the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl ConfirmPage {
    pub fn install_button(&self) -> gtk::Button {
        self.imp().install_button.get()
    }
    pub fn dry_run_switch(&self) -> gtk::Switch {
        self.imp().dry_run_switch.get()
    }
    pub fn disk_text(&self) -> String {
        let r = &self.imp().disk_row;
        format!("{}\n{}", r.title(), r.subtitle().unwrap_or_default())
    }
    pub fn error_text(&self) -> Option<String> {
        let l = &self.imp().error_label;
        l.is_visible().then(|| l.text().to_string())
    }
    /// (title, subtitle) of every summary row.
    pub fn summary(&self) -> Vec<(String, String)> {
        let imp = self.imp();
        [
            &imp.language_row,
            &imp.keyboard_row,
            &imp.timezone_row,
            &imp.user_row,
            &imp.root_row,
            &imp.hostname_row,
            &imp.software_row,
            &imp.boot_row,
        ]
        .iter()
        .map(|r| {
            (
                r.title().to_string(),
                r.subtitle().unwrap_or_default().to_string(),
            )
        })
        .collect()
    }
}
