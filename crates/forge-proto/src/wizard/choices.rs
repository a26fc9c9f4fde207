//! The person's choices (every field a wizard step edits) with the
//! installer's defaults, and the paths of the form-only fields. Both
//! frontends (forge-gui, forge-tui) edit the same struct.

use crate::{BootMode, Filesystem, Secret};

/// Every choice the person makes. Secrets stay in [`Secret`].
#[derive(Debug, Clone)]
pub struct Choices {
    pub locale: String,
    pub layout: String,
    pub variant: String,
    pub timezone: String,
    pub boot: BootMode,
    pub filesystem: Filesystem,
    pub disk: String,
    pub full_name: String,
    pub user_name: String,
    pub admin: bool,
    pub user_password: Secret,
    pub user_password_confirm: Secret,
    pub root_same_as_user: bool,
    pub root_password: Secret,
    pub root_password_confirm: Secret,
    /// The MokManager password of EFI installs (issue 9, item 14).
    pub secure_boot_password: Secret,
    pub secure_boot_password_confirm: Secret,
    pub hostname: String,
    /// Selected group names (plan order is `PackageGroup::ALL` order).
    pub groups: Vec<String>,
    pub dry_run: bool,
}

impl Default for Choices {
    fn default() -> Self {
        Choices {
            locale: "en_US.UTF-8".into(),
            layout: "us".into(),
            variant: String::new(),
            timezone: "UTC".into(),
            boot: BootMode::Auto,
            filesystem: Filesystem::Ext4,
            disk: String::new(),
            full_name: String::new(),
            user_name: String::new(),
            admin: true,
            user_password: Secret::default(),
            user_password_confirm: Secret::default(),
            root_same_as_user: true,
            root_password: Secret::default(),
            root_password_confirm: Secret::default(),
            secure_boot_password: Secret::default(),
            secure_boot_password_confirm: Secret::default(),
            hostname: String::new(),
            groups: ["toolchain", "core", "base", "desktop"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            dry_run: false,
        }
    }
}

/// Form-only field paths (not part of install.yaml or install_io).
pub mod fields {
    pub const USER_PASSWORD_CONFIRM: &str = "install_io.user_password_confirm";
    pub const ROOT_PASSWORD_CONFIRM: &str = "install_io.root_password_confirm";
    pub const SECURE_BOOT_PASSWORD_CONFIRM: &str = "install_io.secure_boot_password_confirm";
    /// The target disk (an `install_io` field; named here for the steps).
    pub const DISK: &str = "install_io.disk";
}
