//! The wizard's state object: a GObject that accumulates the choices made on
//! every screen, holds the data the screens show (disks, package groups,
//! system lists), and produces the `InstallPlan` + `InstallIo` handed to the
//! daemon. Screens read and write it; it emits `changed` after every edit.
//! The problem list (forge-proto's validation plus the form's own checks)
//! is computed once per edit and cached; `problems-changed` tells when it
//! differs, so no screen re-runs the validation per keystroke.

mod catalog;
mod choices;

pub use choices::{fields, Choices};

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use gtk::glib;
use gtk::glib::prelude::*;
use gtk::glib::subclass::prelude::*;

use forge_proto::i18n::tr;
use forge_proto::plan::PLAN_VERSION;
use forge_proto::{
    BootMode, InstallIo, InstallPlan, Keyboard, PackageGroup, Problem, Secret, SystemCatalog, User,
};

use crate::client::ClientError;
use crate::model::{DiskInfo, GroupInfo};
use crate::util;
use catalog::load_catalog;

mod imp {
    use super::*;
    use std::sync::OnceLock;

    #[derive(Default)]
    pub struct ForgeState {
        pub choices: RefCell<Choices>,
        /// Loaded on first use (not before the first frame).
        pub catalog: RefCell<Option<Rc<SystemCatalog>>>,
        /// Apply LANG and /etc/timezone defaults when the catalog loads.
        pub env_defaults: std::cell::Cell<bool>,
        pub lang_names: RefCell<Option<Rc<crate::langnames::LangNames>>>,
        pub disks: RefCell<Vec<DiskInfo>>,
        pub groups: RefCell<Vec<GroupInfo>>,
        pub release: RefCell<String>,
        pub detected_boot: std::cell::Cell<Option<BootMode>>,
        /// Why `ListDisks` failed, if it did.
        pub disk_error: RefCell<Option<ClientError>>,
        /// The problems of the current choices; None after an edit.
        pub problems: RefCell<Option<Rc<[Problem]>>>,
        /// The list `problems-changed` last announced.
        pub announced: RefCell<Option<Rc<[Problem]>>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ForgeState {
        const NAME: &'static str = "ForgeState";
        type Type = super::ForgeState;
    }

    impl ObjectImpl for ForgeState {
        fn signals() -> &'static [glib::subclass::Signal] {
            static SIGNALS: OnceLock<Vec<glib::subclass::Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    glib::subclass::Signal::builder("changed").build(),
                    glib::subclass::Signal::builder("disks-changed").build(),
                    glib::subclass::Signal::builder("groups-changed").build(),
                    glib::subclass::Signal::builder("problems-changed").build(),
                ]
            })
        }
    }
}

glib::wrapper! {
    pub struct ForgeState(ObjectSubclass<imp::ForgeState>);
}

impl Default for ForgeState {
    fn default() -> Self {
        Self::new(SystemCatalog::default())
    }
}

impl ForgeState {
    /// A state over these system lists (tests pass a fixture catalog).
    pub fn new(catalog: SystemCatalog) -> ForgeState {
        let s: ForgeState = glib::Object::new();
        *s.imp().catalog.borrow_mut() = Some(Rc::new(catalog));
        *s.imp().release.borrow_mut() = util::release_name();
        s
    }

    /// A state over the live system's lists, with defaults from the
    /// environment (locale, time zone).
    /// The lists are read on first use, so the window can show its first
    /// frame before parsing them.
    pub fn from_system() -> ForgeState {
        let s: ForgeState = glib::Object::new();
        *s.imp().release.borrow_mut() = util::release_name();
        s.imp().env_defaults.set(true);
        s
    }

    /// The system lists (loaded now if not yet).
    pub fn catalog(&self) -> Rc<SystemCatalog> {
        if let Some(c) = self.imp().catalog.borrow().clone() {
            return c;
        }
        let c = Rc::new(load_catalog());
        *self.imp().catalog.borrow_mut() = Some(c.clone());
        if self.imp().env_defaults.replace(false) {
            let env_locale = std::env::var("LANG").unwrap_or_default();
            let tz = std::fs::read_to_string("/etc/timezone").unwrap_or_default();
            let mut ch = self.imp().choices.borrow_mut();
            if c.locales.contains(&env_locale) {
                ch.locale = env_locale;
            }
            if c.timezones.contains(tz.trim()) {
                ch.timezone = tz.trim().to_string();
            }
        }
        c
    }

    /// Human names of languages and countries (iso-codes), loaded once.
    pub fn lang_names(&self) -> Rc<crate::langnames::LangNames> {
        if let Some(n) = self.imp().lang_names.borrow().clone() {
            return n;
        }
        let n = Rc::new(crate::langnames::LangNames::load());
        *self.imp().lang_names.borrow_mut() = Some(n.clone());
        n
    }

    pub fn choices(&self) -> Ref<'_, Choices> {
        self.imp().choices.borrow()
    }

    /// Calls `f` with the state on each emission of `signal`.
    fn connect_signal<F: Fn(&ForgeState) + 'static>(
        &self,
        signal: &str,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_local(signal, false, move |args| {
            if let Some(Ok(s)) = args.first().map(|v| v.get::<ForgeState>()) {
                f(&s);
            }
            None
        })
    }

    /// Edits the choices and emits `changed`.
    pub fn update(&self, f: impl FnOnce(&mut Choices)) {
        f(&mut self.imp().choices.borrow_mut());
        self.edited();
    }

    /// After every edit: drops the cached problems, emits `changed`, and
    /// `problems-changed` when the new list differs from the last one.
    fn edited(&self) {
        self.imp().problems.replace(None);
        self.emit_by_name::<()>("changed", &[]);
        let now = self.problems();
        let before = self.imp().announced.replace(Some(now.clone()));
        if before.as_deref() != Some(&*now) {
            self.emit_by_name::<()>("problems-changed", &[]);
        }
    }

    /// Calls `f` when the problem list changes.
    pub fn connect_problems_changed<F: Fn(&ForgeState) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_signal("problems-changed", f)
    }

    pub fn connect_changed<F: Fn(&ForgeState) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_signal("changed", f)
    }

    pub fn connect_disks_changed<F: Fn(&ForgeState) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_signal("disks-changed", f)
    }

    pub fn connect_groups_changed<F: Fn(&ForgeState) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_signal("groups-changed", f)
    }

    pub fn release(&self) -> String {
        self.imp().release.borrow().clone()
    }

    pub fn set_release(&self, r: &str) {
        *self.imp().release.borrow_mut() = r.to_string();
        self.edited();
    }

    /// The boot mode the live system was started in.
    pub fn detected_boot(&self) -> BootMode {
        if let Some(b) = self.imp().detected_boot.get() {
            return b;
        }
        let b = forge_proto::layout::firmware_boot_mode();
        self.imp().detected_boot.set(Some(b));
        b
    }

    pub fn disks(&self) -> Vec<DiskInfo> {
        self.imp().disks.borrow().clone()
    }

    /// Replaces the disk list (from `ListDisks`, or a test); a chosen disk
    /// that vanished is unchosen.
    pub fn set_disks(&self, disks: Vec<DiskInfo>) {
        let keep = disks.iter().any(|d| d.device == self.choices().disk);
        *self.imp().disks.borrow_mut() = disks;
        self.imp().disk_error.replace(None);
        if !keep {
            self.imp().choices.borrow_mut().disk.clear();
        }
        self.imp().problems.replace(None);
        self.emit_by_name::<()>("disks-changed", &[]);
        self.edited();
    }

    /// `ListDisks` failed: the disk screen shows why.
    pub fn set_disk_error(&self, e: ClientError) {
        self.imp().disk_error.replace(Some(e));
        self.emit_by_name::<()>("disks-changed", &[]);
    }

    /// Why the disks could not be listed, if they could not.
    pub fn disk_error(&self) -> Option<ClientError> {
        self.imp().disk_error.borrow().clone()
    }

    pub fn groups(&self) -> Vec<GroupInfo> {
        self.imp().groups.borrow().clone()
    }

    /// Replaces the package groups (from `ListPackageGroups`, or a test).
    /// Required groups are selected; selections the list lacks are dropped.
    pub fn set_groups(&self, groups: Vec<GroupInfo>) {
        {
            let mut c = self.imp().choices.borrow_mut();
            c.groups.retain(|n| groups.iter().any(|g| &g.name == n));
            for g in groups.iter().filter(|g| g.required) {
                if !c.groups.contains(&g.name) {
                    c.groups.push(g.name.clone());
                }
            }
        }
        *self.imp().groups.borrow_mut() = groups;
        self.imp().problems.replace(None);
        self.emit_by_name::<()>("groups-changed", &[]);
        self.edited();
    }

    /// The chosen disk's description.
    pub fn chosen_disk(&self) -> Option<DiskInfo> {
        let c = self.choices();
        self.imp()
            .disks
            .borrow()
            .iter()
            .find(|d| d.device == c.disk)
            .cloned()
    }

    /// Bytes the chosen groups need on disk.
    pub fn required_bytes(&self) -> u64 {
        let (boot, fs, installed) = {
            let c = self.choices();
            let installed = util::installed_bytes(&self.imp().groups.borrow(), &c.groups);
            (c.boot, c.filesystem, installed)
        };
        let boot = if boot == BootMode::Auto {
            self.detected_boot()
        } else {
            boot
        };
        forge_proto::layout::required_bytes(installed, boot, fs)
    }

    /// Whether the install boots with EFI (the choice, or for `auto` the
    /// live system's mode): it then enrolls a Secure Boot key and needs
    /// the Secure Boot password.
    pub fn installs_efi(&self) -> bool {
        let boot = self.choices().boot;
        match boot {
            BootMode::Auto => self.detected_boot() == BootMode::Efi,
            b => b == BootMode::Efi,
        }
    }

    /// The `install.yaml` these choices make. Group order is canonical.
    pub fn plan(&self) -> InstallPlan {
        let c = self.choices();
        let mut groups: Vec<String> = PackageGroup::ALL
            .iter()
            .map(|g| g.as_str().to_string())
            .filter(|g| c.groups.contains(g))
            .collect();
        for g in &c.groups {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        InstallPlan {
            version: PLAN_VERSION,
            hostname: c.hostname.clone(),
            locale: c.locale.clone(),
            keyboard: Keyboard {
                layout: c.layout.clone(),
                variant: c.variant.clone(),
            },
            timezone: c.timezone.clone(),
            boot: c.boot.as_str().to_string(),
            filesystem: c.filesystem.as_str().to_string(),
            user: User {
                name: c.user_name.clone(),
                full_name: c.full_name.clone(),
                admin: c.admin,
            },
            package_groups: groups,
            services: Vec::new(),
        }
    }

    /// The `install_io` these choices make (root password is the user's
    /// when "same as user" is on; the Secure Boot password only for EFI).
    pub fn io(&self) -> InstallIo {
        let efi = self.installs_efi();
        let c = self.choices();
        InstallIo {
            disk: c.disk.clone(),
            root_password: if c.root_same_as_user {
                c.user_password.clone()
            } else {
                c.root_password.clone()
            },
            user_password: c.user_password.clone(),
            secure_boot_password: if efi {
                c.secure_boot_password.clone()
            } else {
                Secret::default()
            },
            dry_run: c.dry_run,
        }
    }

    /// Every problem of the current choices (computed once per edit).
    pub fn problems(&self) -> Rc<[Problem]> {
        if let Some(p) = self.imp().problems.borrow().clone() {
            return p;
        }
        let p: Rc<[Problem]> = self.validate().into();
        self.imp().problems.replace(Some(p.clone()));
        p
    }

    /// forge-proto's validation of the plan and install_io (the daemon runs
    /// the same), plus the checks only a form has (confirmations, disk size
    /// against chosen groups).
    fn validate(&self) -> Vec<Problem> {
        let plan = self.plan();
        let io = self.io();
        let mut p = forge_proto::validate::validate_plan(&plan, &self.catalog());
        let efi = self.installs_efi();
        let boot = if efi { BootMode::Efi } else { BootMode::Bios };
        p.extend(forge_proto::validate::validate_io_for(&io, boot));
        let c = self.choices();
        if efi
            && !c.secure_boot_password.is_empty()
            && c.secure_boot_password != c.secure_boot_password_confirm
        {
            p.push(Problem::new(
                fields::SECURE_BOOT_PASSWORD_CONFIRM,
                tr("The Secure Boot passwords do not match."),
            ));
        }
        if !c.user_password.is_empty() && c.user_password != c.user_password_confirm {
            p.push(Problem::new(
                fields::USER_PASSWORD_CONFIRM,
                tr("The passwords do not match."),
            ));
        }
        if !c.root_same_as_user
            && !c.root_password.is_empty()
            && c.root_password != c.root_password_confirm
        {
            p.push(Problem::new(
                fields::ROOT_PASSWORD_CONFIRM,
                tr("The root passwords do not match."),
            ));
        }
        drop(c);
        if let Some(d) = self.chosen_disk() {
            if let Some(why) = util::disk_refusal(&d, self.required_bytes()) {
                p.push(Problem::new("install_io.disk", why));
            }
        }
        p
    }

    /// Problems whose field starts with one of `prefixes`.
    pub fn problems_for(&self, prefixes: &[&str]) -> Vec<Problem> {
        self.problems()
            .iter()
            .filter(|p| prefixes.iter().any(|x| p.field.starts_with(x)))
            .cloned()
            .collect()
    }
}
