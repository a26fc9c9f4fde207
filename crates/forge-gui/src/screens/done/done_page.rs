//! Done: success, or the phase that failed with a short message and the
//! full detail on request; every warning listed (the person always knows
//! the true state of the install); Restart and Close. Restart asks logind
//! (unprivileged, interactive); it is hidden when the target was an image
//! file, where the page says how to boot the image instead. After an EFI
//! install onto a disk, it says that the next start asks for the Secure
//! Boot password in MokManager (issue 9, item 14).

use std::cell::Cell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use forge_proto::i18n::{tr, trf};
use forge_proto::Phase;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/done/done_page.ui")]
    #[properties(wrapper_type = super::DonePage)]
    pub struct DonePage {
        #[property(get)]
        pub complete: Cell<bool>,
        #[template_child]
        pub status: TemplateChild<adw::StatusPage>,
        #[template_child]
        pub detail_expander: TemplateChild<gtk::Expander>,
        #[template_child]
        pub detail_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub warnings_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub warning_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub image_hint: TemplateChild<gtk::Label>,
        #[template_child]
        pub mok_hint: TemplateChild<gtk::Label>,
        /// The install enrolls a Secure Boot key (EFI).
        pub secure_boot: Cell<bool>,
        #[template_child]
        pub close_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub restart_button: TemplateChild<gtk::Button>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DonePage {
        const NAME: &'static str = "ForgeDonePage";
        type Type = super::DonePage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DonePage {}
    impl WidgetImpl for DonePage {}
    impl BinImpl for DonePage {}
}

glib::wrapper! {
    pub struct DonePage(ObjectSubclass<imp::DonePage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for DonePage {
    fn default() -> Self {
        Self::new()
    }
}

impl DonePage {
    pub fn new() -> Self {
        let p: DonePage = glib::Object::new();
        p.imp().close_button.connect_clicked(|b| {
            if let Some(w) = b.root().and_downcast::<gtk::Window>() {
                w.close();
            }
        });
        p.imp().restart_button.connect_clicked(|b| {
            b.set_sensitive(false);
            glib::spawn_future_local(async move {
                let bus = gio::bus_get_future(gio::BusType::System).await;
                let res = match bus {
                    Ok(conn) => conn
                        .call_future(
                            Some("org.freedesktop.login1"),
                            "/org/freedesktop/login1",
                            "org.freedesktop.login1.Manager",
                            "Reboot",
                            Some(&(true,).to_variant()),
                            None,
                            gio::DBusCallFlags::ALLOW_INTERACTIVE_AUTHORIZATION,
                            -1,
                        )
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = res {
                    tracing::warn!("restart failed: {e}");
                }
            });
        });
        p
    }

    /// Whether the install enrolls a Secure Boot key (EFI): the success
    /// page then says how MokManager asks for the Secure Boot password.
    pub fn set_secure_boot(&self, enrolls: bool) {
        self.imp().secure_boot.set(enrolls);
    }

    /// Shows the job's last word.
    pub fn show_result(
        &self,
        success: bool,
        phase_completed: Option<Phase>,
        error: &str,
        warnings: &[String],
        image_target: bool,
    ) {
        let imp = self.imp();
        if success {
            imp.status.set_icon_name(Some("emblem-ok-symbolic"));
            imp.status.set_title(&tr("Installation Complete"));
            imp.status.set_description(Some(&if warnings.is_empty() {
                tr("InterGenOS is installed. Restart the computer and remove the installation medium.")
            } else {
                crate::util::fill(
                    &forge_proto::i18n::ngettext(
                        "InterGenOS is installed, with one warning listed below. Read it before you restart.",
                        "InterGenOS is installed, with {count} warnings listed below. Read them before you restart.",
                        u32::try_from(warnings.len() as u64).unwrap_or(u32::MAX),
                    ),
                    warnings.len() as u64,
                    &[],
                )
            }));
            imp.detail_expander.set_visible(false);
        } else {
            // The phase after the last finished one; none finished: validate.
            let failed = match phase_completed {
                Some(p) => Phase::ALL.get(p.index() as usize + 1).copied(),
                None => Some(Phase::Validate),
            };
            let phase = failed
                .map(|p| p.label())
                .unwrap_or_else(|| tr("Unknown step"));
            imp.status.set_icon_name(Some("dialog-error-symbolic"));
            imp.status.set_title(&tr("Installation Failed"));
            let short = error.lines().next().unwrap_or("").trim();
            let mut desc = trf(
                "The installation stopped at: {phase}.",
                &[("phase", &phase)],
            );
            if !short.is_empty() {
                desc.push('\n');
                desc.push_str(&glib::markup_escape_text(short));
            }
            desc.push('\n');
            desc.push_str(&tr("Everything set up for the install was undone; the computer is unchanged unless the disk had already been partitioned."));
            imp.status.set_description(Some(&desc));
            imp.detail_label.set_text(error);
            imp.detail_expander.set_visible(!error.is_empty());
        }
        while let Some(c) = imp.warning_list.first_child() {
            imp.warning_list.remove(&c);
        }
        if warnings.is_empty() {
            let row = adw::ActionRow::builder().title(tr("No warnings")).build();
            imp.warning_list.append(&row);
        }
        for w in warnings {
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(w).as_str())
                .title_lines(0)
                .build();
            let icon = crate::a11y::presentation_icon("dialog-warning-symbolic");
            row.add_prefix(&icon);
            imp.warning_list.append(&row);
        }
        imp.restart_button.set_visible(success && !image_target);
        imp.image_hint.set_visible(success && image_target);
        imp.mok_hint
            .set_visible(success && !image_target && imp.secure_boot.get());
        imp.mok_hint.set_text(&tr(
            "At the next start, a blue MokManager screen asks to enroll this computer's Secure Boot key: choose “Enroll MOK”, then “Continue”, then “Yes”, and type the Secure Boot password you chose.",
        ));
        if image_target {
            imp.image_hint.set_text(&tr(
                "The system was installed into a disk-image file. Boot it with QEMU, for example: qemu-system-x86_64 -accel tcg -m 1024 -drive file=IMAGE,format=raw",
            ));
        }
    }
}

/// Reading the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl DonePage {
    pub fn title(&self) -> String {
        self.imp().status.title().to_string()
    }
    pub fn description(&self) -> String {
        self.imp()
            .status
            .description()
            .unwrap_or_default()
            .to_string()
    }
    pub fn detail_text(&self) -> String {
        self.imp().detail_label.text().to_string()
    }
    pub fn detail_expander(&self) -> gtk::Expander {
        self.imp().detail_expander.get()
    }
    pub fn warning_count(&self) -> usize {
        let mut n = 0;
        let mut c = self.imp().warning_list.first_child();
        while let Some(w) = c {
            n += 1;
            c = w.next_sibling();
        }
        n
    }
    /// The MokManager sentence, when shown.
    pub fn mok_hint(&self) -> Option<String> {
        let l = &self.imp().mok_hint;
        l.is_visible().then(|| l.text().to_string())
    }
    pub fn restart_visible(&self) -> bool {
        self.imp().restart_button.is_visible()
    }
}
