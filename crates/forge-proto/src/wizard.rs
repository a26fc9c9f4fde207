//! The frontend-neutral install wizard model (issue 11, "one model, two
//! frontends"): the person's [`Choices`], the lists the steps show (disks,
//! package groups, the system catalog), and everything derived from them —
//! the `install.yaml` plan and its canonical bytes, the `install_io`, the
//! problems, and which of them gate each [`Step`]. forge-gui wraps it in a
//! GObject; forge-tui owns one directly. No GTK, no async, no global state:
//! the only system reads are in [`Wizard::from_system`] (see `system`).

mod choices;
mod present;
mod rules;
mod system;
#[cfg(test)]
mod tests;

pub use choices::{fields, Choices};
pub use present::{
    boot_mode_label, group_label, password_strength, suggest_hostname, suggest_user_name,
};
pub use rules::{disk_refusal, format_size, installed_bytes, too_small_for_groups};
pub use system::{environment_defaults, load_system_catalog, release_name};

use std::sync::Arc;

use crate::i18n::tr;
use crate::plan::PLAN_VERSION;
use crate::validate::SECURE_BOOT_PASSWORD_FIELD;
use crate::{
    BootMode, DiskInfo, GroupInfo, InstallIo, InstallPlan, Keyboard, PackageGroup, Problem, Secret,
    SystemCatalog, User,
};

/// The wizard steps before Progress and Done, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    Welcome,
    KeyboardLocale,
    Disk,
    User,
    Packages,
    Confirm,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Welcome,
        Step::KeyboardLocale,
        Step::Disk,
        Step::User,
        Step::Packages,
        Step::Confirm,
    ];

    /// The problem fields (prefixes of [`Problem::field`]) this step edits
    /// and is gated by. `""` (Confirm) matches every field.
    pub fn field_prefixes(self) -> &'static [&'static str] {
        match self {
            Step::Welcome => &[],
            Step::KeyboardLocale => &["locale", "keyboard", "timezone"],
            Step::Disk => &[fields::DISK, "boot", "filesystem"],
            Step::User => &[
                "user",
                "hostname",
                "install_io.user_password",
                "install_io.root_password",
                SECURE_BOOT_PASSWORD_FIELD,
            ],
            Step::Packages => &["package_groups"],
            Step::Confirm => &[""],
        }
    }
}

/// The wizard's state: choices plus the lists they are made from.
#[derive(Debug, Clone)]
pub struct Wizard {
    choices: Choices,
    catalog: Arc<SystemCatalog>,
    disks: Vec<DiskInfo>,
    groups: Vec<GroupInfo>,
    detected_boot: BootMode,
    release: String,
    size_format: fn(u64) -> String,
}

impl Wizard {
    /// A wizard over these lists, for a live system booted in
    /// `detected_boot` (`Efi` or `Bios`: what `auto` resolves to). Default
    /// choices; no disks or groups until they are set.
    pub fn new(catalog: SystemCatalog, detected_boot: BootMode) -> Wizard {
        Wizard {
            choices: Choices::default(),
            catalog: Arc::new(catalog),
            disks: Vec::new(),
            groups: Vec::new(),
            detected_boot,
            release: format!("InterGenOS {}", crate::VERSION),
            size_format: format_size,
        }
    }

    /// The live system's wizard: its lists, its firmware boot mode, its
    /// release name, and the locale (LANG) and time zone (/etc/timezone) it
    /// runs with as defaults when the lists know them.
    pub fn from_system() -> Wizard {
        let catalog = load_system_catalog().unwrap_or_default();
        let mut w = Wizard::new(catalog, crate::layout::firmware_boot_mode());
        w.release = release_name();
        w.apply_environment_defaults();
        w
    }

    /// Takes the environment's locale and time zone as choices where the
    /// catalog lists them.
    pub fn apply_environment_defaults(&mut self) {
        let (locale, tz) = environment_defaults();
        self.apply_defaults(&locale, &tz);
    }

    /// Takes `locale` and `timezone` as choices where the catalog lists them.
    pub fn apply_defaults(&mut self, locale: &str, timezone: &str) {
        if self.catalog.locales.contains(locale) {
            self.choices.locale = locale.to_string();
        }
        if self.catalog.timezones.contains(timezone) {
            self.choices.timezone = timezone.to_string();
        }
    }

    pub fn choices(&self) -> &Choices {
        &self.choices
    }

    /// Edits the choices.
    pub fn update(&mut self, f: impl FnOnce(&mut Choices)) {
        f(&mut self.choices);
    }

    pub fn catalog(&self) -> &SystemCatalog {
        &self.catalog
    }

    /// The catalog, shared (frontends that hand it to views).
    pub fn shared_catalog(&self) -> Arc<SystemCatalog> {
        self.catalog.clone()
    }

    /// Replaces the lists (a frontend that loads them after its first frame).
    pub fn set_catalog(&mut self, catalog: SystemCatalog) {
        self.catalog = Arc::new(catalog);
    }

    pub fn release(&self) -> &str {
        &self.release
    }

    pub fn set_release(&mut self, r: &str) {
        self.release = r.to_string();
    }

    /// The boot mode the live system was started in.
    pub fn detected_boot(&self) -> BootMode {
        self.detected_boot
    }

    pub fn set_detected_boot(&mut self, b: BootMode) {
        self.detected_boot = b;
    }

    /// How messages write byte counts (default [`format_size`]).
    pub fn set_size_format(&mut self, f: fn(u64) -> String) {
        self.size_format = f;
    }

    /// A byte count as this wizard's messages write it.
    pub fn format_size(&self, bytes: u64) -> String {
        (self.size_format)(bytes)
    }

    /// Replaces the disk list (from `ListDisks`); a chosen disk that
    /// vanished is unchosen.
    pub fn set_disks(&mut self, disks: Vec<DiskInfo>) {
        if !disks.iter().any(|d| d.device == self.choices.disk) {
            self.choices.disk.clear();
        }
        self.disks = disks;
    }

    pub fn disks(&self) -> &[DiskInfo] {
        &self.disks
    }

    /// The chosen disk's description, if it is listed.
    pub fn chosen_disk(&self) -> Option<&DiskInfo> {
        self.disks.iter().find(|d| d.device == self.choices.disk)
    }

    /// Why `disk` cannot be chosen (read-only, in use, too small for the
    /// chosen software), translated; None when it can.
    pub fn disk_refusal(&self, disk: &DiskInfo) -> Option<String> {
        disk_refusal(disk, self.required_bytes(), self.size_format)
    }

    /// Replaces the package groups (from `ListPackageGroups`). Required
    /// groups are selected; selections the list lacks are dropped.
    pub fn set_groups(&mut self, groups: Vec<GroupInfo>) {
        let c = &mut self.choices;
        c.groups.retain(|n| groups.iter().any(|g| &g.name == n));
        for g in groups.iter().filter(|g| g.required) {
            if !c.groups.contains(&g.name) {
                c.groups.push(g.name.clone());
            }
        }
        self.groups = groups;
    }

    pub fn groups(&self) -> &[GroupInfo] {
        &self.groups
    }

    /// The boot mode the install uses (`auto` resolved to the live
    /// system's).
    pub fn boot_mode(&self) -> BootMode {
        match self.choices.boot {
            BootMode::Auto => self.detected_boot,
            b => b,
        }
    }

    /// Bytes the chosen groups need on disk (table, boot partition, root).
    pub fn required_bytes(&self) -> u64 {
        let installed = installed_bytes(&self.groups, &self.choices.groups);
        crate::layout::required_bytes(installed, self.boot_mode(), self.choices.filesystem)
    }

    /// Whether the install boots with EFI: it then enrolls a Secure Boot
    /// key and needs the Secure Boot password.
    pub fn installs_efi(&self) -> bool {
        self.boot_mode() == BootMode::Efi
    }

    /// The `install.yaml` these choices make. Group order is canonical
    /// (`PackageGroup::ALL` order, then unknown names as chosen).
    pub fn plan(&self) -> InstallPlan {
        let c = &self.choices;
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

    /// The canonical `install.yaml` bytes: what every frontend sends to the
    /// daemon and what `--save-plan` writes.
    pub fn plan_yaml(&self) -> String {
        self.plan().to_canonical_yaml()
    }

    /// The `install_io` these choices make (root password is the user's
    /// when "same as user" is on; the Secure Boot password only for EFI).
    pub fn io(&self) -> InstallIo {
        let c = &self.choices;
        InstallIo {
            disk: c.disk.clone(),
            root_password: if c.root_same_as_user {
                c.user_password.clone()
            } else {
                c.root_password.clone()
            },
            user_password: c.user_password.clone(),
            secure_boot_password: if self.installs_efi() {
                c.secure_boot_password.clone()
            } else {
                Secret::default()
            },
            dry_run: c.dry_run,
        }
    }

    /// Every problem of the current choices: forge-proto's validation of
    /// the plan and install_io (the daemon runs the same), plus the checks
    /// only a form has (confirmations, the chosen disk's refusal).
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = crate::validate::validate_plan(&self.plan(), &self.catalog);
        let efi = self.installs_efi();
        let boot = if efi { BootMode::Efi } else { BootMode::Bios };
        p.extend(crate::validate::validate_io_for(&self.io(), boot));
        let c = &self.choices;
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
        if let Some(why) = self.chosen_disk().and_then(|d| self.disk_refusal(d)) {
            p.push(Problem::new(fields::DISK, why));
        }
        p
    }

    /// The problems of `problems` whose field starts with one of `prefixes`.
    pub fn filter_problems(problems: &[Problem], prefixes: &[&str]) -> Vec<Problem> {
        problems
            .iter()
            .filter(|p| prefixes.iter().any(|x| p.field.starts_with(x)))
            .cloned()
            .collect()
    }

    /// What gates Next on `step` (empty: the step is complete).
    pub fn step_problems(&self, step: Step) -> Vec<Problem> {
        self.step_problems_in(step, &self.problems())
    }

    /// [`Wizard::step_problems`] from an already computed [`Wizard::problems`]
    /// list (a frontend that caches it).
    pub fn step_problems_in(&self, step: Step, all: &[Problem]) -> Vec<Problem> {
        let mut p = Wizard::filter_problems(all, step.field_prefixes());
        match step {
            Step::User if self.choices.root_same_as_user => {
                p.retain(|x| !x.field.starts_with("install_io.root_password"));
            }
            Step::Packages => {
                if self.groups.is_empty() {
                    p.push(Problem::new(
                        "package_groups",
                        tr("The installer service has not listed any software yet."),
                    ));
                }
                if let Some(d) = self.chosen_disk() {
                    let need = self.required_bytes();
                    if d.size < need {
                        p.push(Problem::new(
                            "package_groups",
                            too_small_for_groups(d.size, need, self.size_format),
                        ));
                    }
                }
            }
            Step::Confirm if self.chosen_disk().is_none() && !self.choices.disk.is_empty() => {
                p.push(Problem::new(fields::DISK, tr("No disk chosen")));
            }
            _ => {}
        }
        p
    }
}
