//! The wizard's state object: a thin GObject around forge-proto's
//! frontend-neutral [`Wizard`] (choices, the lists the screens show, the
//! plan, install_io and problems; the same model forge-tui drives). It adds
//! what only the GUI needs: signals (`changed` after every edit,
//! `disks-changed`, `groups-changed`, `problems-changed` when the problem
//! list differs), the system lists loaded on first use (not before the
//! first frame), the problem list cached per edit so no screen re-runs the
//! validation per keystroke, language names, and why `ListDisks` failed.

pub use forge_proto::wizard::{fields, Choices, Step};

use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use gtk::glib;
use gtk::glib::prelude::*;
use gtk::glib::subclass::prelude::*;

use forge_proto::wizard::{self, Wizard};
use forge_proto::{BootMode, InstallIo, InstallPlan, Problem, SystemCatalog};

use crate::client::ClientError;
use crate::model::{DiskInfo, GroupInfo};
use crate::util;

mod imp {
    use super::*;
    use std::sync::OnceLock;

    pub struct ForgeState {
        pub wizard: RefCell<Wizard>,
        /// The system lists are still to be loaded (and LANG and
        /// /etc/timezone applied as defaults) on first use.
        pub catalog_pending: Cell<bool>,
        pub lang_names: RefCell<Option<Rc<crate::langnames::LangNames>>>,
        /// Why `ListDisks` failed, if it did.
        pub disk_error: RefCell<Option<ClientError>>,
        /// The problems of the current choices; None after an edit.
        pub problems: RefCell<Option<Rc<[Problem]>>>,
        /// The list `problems-changed` last announced.
        pub announced: RefCell<Option<Rc<[Problem]>>>,
    }

    impl Default for ForgeState {
        fn default() -> Self {
            let mut w = Wizard::new(
                SystemCatalog::default(),
                forge_proto::layout::firmware_boot_mode(),
            );
            w.set_size_format(util::format_size);
            w.set_release(&wizard::release_name());
            ForgeState {
                wizard: RefCell::new(w),
                catalog_pending: Cell::new(false),
                lang_names: RefCell::default(),
                disk_error: RefCell::default(),
                problems: RefCell::default(),
                announced: RefCell::default(),
            }
        }
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
        s.imp().wizard.borrow_mut().set_catalog(catalog);
        s
    }

    /// A state over the live system's lists, with defaults from the
    /// environment (locale, time zone).
    /// The lists are read on first use, so the window can show its first
    /// frame before parsing them.
    pub fn from_system() -> ForgeState {
        let s: ForgeState = glib::Object::new();
        s.imp().catalog_pending.set(true);
        s
    }

    /// Loads the system lists if they are still pending.
    fn ensure_catalog(&self) {
        if !self.imp().catalog_pending.replace(false) {
            return;
        }
        let catalog = wizard::load_system_catalog().unwrap_or_else(|e| {
            tracing::warn!("system lists unavailable: {e}");
            SystemCatalog::default()
        });
        let mut w = self.imp().wizard.borrow_mut();
        w.set_catalog(catalog);
        w.apply_environment_defaults();
    }

    /// The model (read-only; edits go through the methods below, which
    /// emit the signals).
    pub fn wizard(&self) -> Ref<'_, Wizard> {
        self.imp().wizard.borrow()
    }

    /// The system lists (loaded now if not yet).
    pub fn catalog(&self) -> Arc<SystemCatalog> {
        self.ensure_catalog();
        self.wizard().shared_catalog()
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
        Ref::map(self.wizard(), Wizard::choices)
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
        self.imp().wizard.borrow_mut().update(f);
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
        self.wizard().release().to_string()
    }

    pub fn set_release(&self, r: &str) {
        self.imp().wizard.borrow_mut().set_release(r);
        self.edited();
    }

    /// The boot mode the live system was started in.
    pub fn detected_boot(&self) -> BootMode {
        self.wizard().detected_boot()
    }

    pub fn disks(&self) -> Vec<DiskInfo> {
        self.wizard().disks().to_vec()
    }

    /// Replaces the disk list (from `ListDisks`, or a test); a chosen disk
    /// that vanished is unchosen.
    pub fn set_disks(&self, disks: Vec<DiskInfo>) {
        self.imp().wizard.borrow_mut().set_disks(disks);
        self.imp().disk_error.replace(None);
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
        self.wizard().groups().to_vec()
    }

    /// Replaces the package groups (from `ListPackageGroups`, or a test).
    /// Required groups are selected; selections the list lacks are dropped.
    pub fn set_groups(&self, groups: Vec<GroupInfo>) {
        self.imp().wizard.borrow_mut().set_groups(groups);
        self.imp().problems.replace(None);
        self.emit_by_name::<()>("groups-changed", &[]);
        self.edited();
    }

    /// The chosen disk's description.
    pub fn chosen_disk(&self) -> Option<DiskInfo> {
        self.wizard().chosen_disk().cloned()
    }

    /// Why this disk cannot be chosen (translated), or None.
    pub fn disk_refusal(&self, disk: &DiskInfo) -> Option<String> {
        self.wizard().disk_refusal(disk)
    }

    /// Bytes the chosen groups need on disk.
    pub fn required_bytes(&self) -> u64 {
        self.wizard().required_bytes()
    }

    /// Whether the install boots with EFI (the choice, or for `auto` the
    /// live system's mode): it then enrolls a Secure Boot key and needs
    /// the Secure Boot password.
    pub fn installs_efi(&self) -> bool {
        self.wizard().installs_efi()
    }

    /// The `install.yaml` these choices make. Group order is canonical.
    pub fn plan(&self) -> InstallPlan {
        self.wizard().plan()
    }

    /// The canonical `install.yaml` bytes sent to the daemon (and saved by
    /// the autopilot's save-plan mode).
    pub fn plan_yaml(&self) -> String {
        self.wizard().plan_yaml()
    }

    /// The `install_io` these choices make.
    pub fn io(&self) -> InstallIo {
        self.wizard().io()
    }

    /// Every problem of the current choices (computed once per edit).
    pub fn problems(&self) -> Rc<[Problem]> {
        if let Some(p) = self.imp().problems.borrow().clone() {
            return p;
        }
        self.ensure_catalog();
        let p: Rc<[Problem]> = self.wizard().problems().into();
        self.imp().problems.replace(Some(p.clone()));
        p
    }

    /// What gates Next on `step` (the model's rule, from the cached list).
    pub fn step_problems(&self, step: Step) -> Vec<Problem> {
        let all = self.problems();
        self.wizard().step_problems_in(step, &all)
    }
}
