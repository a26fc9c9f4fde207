//! User: full name, a suggested user name, password and confirmation with
//! strength feedback, the administrator switch, the root password (or,
//! stated plainly, the same as the user's), and a host name suggested from
//! the user name. Suggestions follow the name until the person edits them.
//! EFI installs also ask for the Secure Boot password (and its
//! confirmation) MokManager asks for at the next start (issue 9, item 14).
//! (Over 400 lines only by the test accessors behind the `autopilot`
//! feature at the end.)

use std::cell::{Cell, OnceCell};

/// Field path of each entry row, for marking it touched.
const TOUCH_FULL_NAME: &[&str] = &["user.full_name", "user.name", "hostname"];
/// The Secure Boot password's field (its confirmation is
/// `fields::SECURE_BOOT_PASSWORD_CONFIRM`, below it).
const SB_FIELD: &str = forge_proto::validate::SECURE_BOOT_PASSWORD_FIELD;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use forge_proto::i18n::{tr, trf};
use forge_proto::Secret;

use crate::screens::problem_label::show_problems;
use crate::state::{fields, ForgeState, Step};
use crate::util;

use crate::screens::{ForgeStep, ForgeStepExt};

mod imp {
    use super::*;
    use crate::screens::step::ForgeStepImpl;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/user/user_page.ui")]
    #[properties(wrapper_type = super::UserPage)]
    pub struct UserPage {
        #[property(get, override_interface = ForgeStep)]
        pub complete: Cell<bool>,
        #[template_child]
        pub full_name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub user_name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub password_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub confirm_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub admin_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub strength_bar: TemplateChild<gtk::LevelBar>,
        #[template_child]
        pub strength_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub account_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub same_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub same_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub root_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub root_confirm_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub root_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub sb_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub sb_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub sb_confirm_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub sb_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub hostname_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub hostname_problem: TemplateChild<gtk::Label>,
        pub state: OnceCell<ForgeState>,
        /// The person typed a user name / host name of their own.
        pub user_name_edited: Cell<bool>,
        pub hostname_edited: Cell<bool>,
        pub updating: Cell<bool>,
        /// Fields the person has edited: only their problems are shown
        /// (Next stays disabled for the others without shouting at once).
        pub touched: std::cell::RefCell<std::collections::HashSet<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for UserPage {
        const NAME: &'static str = "ForgeUserPage";
        type Type = super::UserPage;
        type ParentType = adw::Bin;
        type Interfaces = (ForgeStep,);

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for UserPage {}
    impl WidgetImpl for UserPage {}
    impl BinImpl for UserPage {}
    impl ForgeStepImpl for UserPage {}
}

glib::wrapper! {
    pub struct UserPage(ObjectSubclass<imp::UserPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, ForgeStep;
}

impl UserPage {
    pub fn new(state: &ForgeState) -> Self {
        let p: UserPage = glib::Object::new();
        let _ = p.imp().state.set(state.clone());
        p.load_from_state();
        p.connect_fields();
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

    fn load_from_state(&self) {
        let imp = self.imp();
        let s = self.state();
        let c = s.choices().clone();
        imp.updating.set(true);
        imp.full_name_row.set_text(&c.full_name);
        imp.user_name_row.set_text(&c.user_name);
        imp.password_row.set_text(c.user_password.expose());
        imp.confirm_row.set_text(c.user_password_confirm.expose());
        imp.admin_switch.set_active(c.admin);
        imp.same_switch.set_active(c.root_same_as_user);
        imp.root_row.set_text(c.root_password.expose());
        imp.root_confirm_row
            .set_text(c.root_password_confirm.expose());
        imp.sb_row.set_text(c.secure_boot_password.expose());
        imp.sb_confirm_row
            .set_text(c.secure_boot_password_confirm.expose());
        imp.hostname_row.set_text(&c.hostname);
        imp.updating.set(false);
    }

    fn connect_fields(&self) {
        let imp = self.imp();
        imp.full_name_row.connect_changed(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |e| {
                if p.imp().updating.get() {
                    return;
                }
                let full = e.text().to_string();
                p.touch(TOUCH_FULL_NAME);
                let suggested =
                    (!p.imp().user_name_edited.get()).then(|| util::suggest_user_name(&full));
                p.state().update(|c| c.full_name = full);
                if let Some(u) = suggested {
                    p.imp().updating.set(true);
                    p.imp().user_name_row.set_text(&u);
                    p.imp().updating.set(false);
                    p.set_user_name(u);
                }
            }
        ));
        imp.user_name_row.connect_changed(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |e| {
                if p.imp().updating.get() {
                    return;
                }
                p.imp().user_name_edited.set(!e.text().is_empty());
                p.touch(&["user.name", "hostname"]);
                p.set_user_name(e.text().to_string());
            }
        ));
        let secret_field =
            |row: &adw::PasswordEntryRow,
             field: &'static str,
             set: fn(&mut crate::state::Choices, Secret)| {
                row.connect_changed(glib::clone!(
                    #[weak(rename_to = p)]
                    self,
                    move |e| {
                        if p.imp().updating.get() {
                            return;
                        }
                        p.touch(&[field]);
                        let s = Secret::new(e.text().to_string());
                        p.state().update(|c| set(c, s));
                    }
                ));
            };
        secret_field(&imp.password_row, "install_io.user_password", |c, s| {
            c.user_password = s
        });
        secret_field(&imp.confirm_row, fields::USER_PASSWORD_CONFIRM, |c, s| {
            c.user_password_confirm = s
        });
        secret_field(&imp.root_row, "install_io.root_password", |c, s| {
            c.root_password = s
        });
        secret_field(
            &imp.root_confirm_row,
            fields::ROOT_PASSWORD_CONFIRM,
            |c, s| c.root_password_confirm = s,
        );
        secret_field(&imp.sb_row, SB_FIELD, |c, s| c.secure_boot_password = s);
        secret_field(
            &imp.sb_confirm_row,
            fields::SECURE_BOOT_PASSWORD_CONFIRM,
            |c, s| c.secure_boot_password_confirm = s,
        );
        imp.admin_switch.connect_active_notify(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |s| {
                let on = s.is_active();
                p.state().update(|c| c.admin = on);
            }
        ));
        imp.same_switch.connect_active_notify(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |s| {
                let on = s.is_active();
                p.state().update(|c| c.root_same_as_user = on);
            }
        ));
        imp.hostname_row.connect_changed(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |e| {
                if p.imp().updating.get() {
                    return;
                }
                p.imp().hostname_edited.set(!e.text().is_empty());
                p.touch(&["hostname"]);
                let h = e.text().to_string();
                p.state().update(|c| c.hostname = h);
            }
        ));
    }

    /// Sets the user name and, unless edited, the suggested host name.
    fn set_user_name(&self, name: String) {
        let host = (!self.imp().hostname_edited.get()).then(|| util::suggest_hostname(&name));
        if let Some(h) = &host {
            self.imp().updating.set(true);
            self.imp().hostname_row.set_text(h);
            self.imp().updating.set(false);
        }
        self.state().update(|c| {
            c.user_name = name;
            if let Some(h) = host {
                c.hostname = h;
            }
        });
    }

    /// Re-checks validity; shows problems, strength and the root line.
    pub fn refresh(&self) {
        let imp = self.imp();
        let state = self.state();
        let (pw_score, pw_label) = util::password_strength(state.choices().user_password.expose());
        imp.strength_bar.set_value(f64::from(pw_score));
        imp.strength_label.set_text(&pw_label);
        crate::a11y::set_description(&*imp.strength_bar, &pw_label);
        let (same, user) = {
            let c = state.choices();
            (c.root_same_as_user, c.user_name.clone())
        };
        let who = if user.is_empty() {
            tr("your account")
        } else {
            user
        };
        imp.same_row.set_subtitle(&if same {
            trf(
                "The root account will have the same password as {user}.",
                &[("user", &who)],
            )
        } else {
            tr("The root account gets its own password, entered below.")
        });
        imp.root_row.set_visible(!same);
        imp.root_confirm_row.set_visible(!same);
        imp.sb_group.set_visible(state.installs_efi());

        // The model drops the root-password problems when "same" is on.
        let mut problems = state.step_problems(Step::User);
        let complete = problems.is_empty();
        {
            let touched = imp.touched.borrow();
            problems.retain(|p| touched.contains(&p.field));
        }
        show_problems(
            &imp.account_problem,
            None,
            &problems
                .iter()
                .filter(|p| {
                    p.field.starts_with("user") || p.field.starts_with("install_io.user_password")
                })
                .cloned()
                .collect::<Vec<_>>(),
            "",
        );
        for (row, field) in [
            (
                imp.full_name_row.upcast_ref::<gtk::Widget>(),
                "user.full_name",
            ),
            (imp.user_name_row.upcast_ref(), "user.name"),
            (imp.password_row.upcast_ref(), "install_io.user_password"),
            (imp.confirm_row.upcast_ref(), fields::USER_PASSWORD_CONFIRM),
            (imp.root_row.upcast_ref(), "install_io.root_password"),
            (
                imp.root_confirm_row.upcast_ref(),
                fields::ROOT_PASSWORD_CONFIRM,
            ),
            (imp.sb_row.upcast_ref(), SB_FIELD),
            (
                imp.sb_confirm_row.upcast_ref(),
                fields::SECURE_BOOT_PASSWORD_CONFIRM,
            ),
            (imp.hostname_row.upcast_ref(), "hostname"),
        ] {
            let has = problems.iter().any(|p| p.field == field);
            if has {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
        let root: Vec<_> = problems
            .iter()
            .filter(|p| p.field.starts_with("install_io.root_password"))
            .cloned()
            .collect();
        show_problems(&imp.root_problem, None, &root, "");
        let sb: Vec<_> = problems
            .iter()
            .filter(|p| p.field.starts_with(SB_FIELD))
            .cloned()
            .collect();
        show_problems(&imp.sb_problem, None, &sb, "");
        show_problems(&imp.hostname_problem, None, &problems, "hostname");
        if complete != imp.complete.get() {
            imp.complete.set(complete);
            self.notify_complete();
        }
    }

    fn touch(&self, fields: &[&str]) {
        let mut t = self.imp().touched.borrow_mut();
        for f in fields {
            t.insert((*f).to_string());
        }
    }
}

/// Driving the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl UserPage {
    pub fn full_name_row(&self) -> adw::EntryRow {
        self.imp().full_name_row.get()
    }
    pub fn user_name_row(&self) -> adw::EntryRow {
        self.imp().user_name_row.get()
    }
    pub fn password_row(&self) -> adw::PasswordEntryRow {
        self.imp().password_row.get()
    }
    pub fn confirm_row(&self) -> adw::PasswordEntryRow {
        self.imp().confirm_row.get()
    }
    pub fn root_row(&self) -> adw::PasswordEntryRow {
        self.imp().root_row.get()
    }
    pub fn root_confirm_row(&self) -> adw::PasswordEntryRow {
        self.imp().root_confirm_row.get()
    }
    pub fn secure_boot_row(&self) -> adw::PasswordEntryRow {
        self.imp().sb_row.get()
    }
    pub fn secure_boot_confirm_row(&self) -> adw::PasswordEntryRow {
        self.imp().sb_confirm_row.get()
    }
    /// Whether the Secure Boot password group is shown (EFI installs).
    pub fn secure_boot_shown(&self) -> bool {
        self.imp().sb_group.is_visible()
    }
    pub fn hostname_row(&self) -> adw::EntryRow {
        self.imp().hostname_row.get()
    }
    pub fn admin_switch(&self) -> gtk::Switch {
        self.imp().admin_switch.get()
    }
    pub fn same_switch(&self) -> gtk::Switch {
        self.imp().same_switch.get()
    }
    pub fn strength_text(&self) -> String {
        self.imp().strength_label.text().to_string()
    }
    pub fn root_line(&self) -> String {
        self.imp()
            .same_row
            .subtitle()
            .unwrap_or_default()
            .to_string()
    }
    pub fn problem_texts(&self) -> Vec<String> {
        let imp = self.imp();
        [
            &imp.account_problem,
            &imp.root_problem,
            &imp.sb_problem,
            &imp.hostname_problem,
        ]
        .iter()
        .filter(|l| l.is_visible())
        .map(|l| l.text().to_string())
        .collect()
    }
}
