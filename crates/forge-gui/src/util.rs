//! Small helpers the screens share: plural filling and GLib's human sizes.
//! Password strength, name suggestions and labels are re-exported from the
//! shared model `forge_proto::wizard` (forge-tui shows the same), which also
//! holds the rules (disk refusal, installed and required bytes, gating);
//! disk-layout facts and boot-mode detection are `forge_proto::layout`'s.

pub use forge_proto::wizard::{
    boot_mode_label, group_label, password_strength, suggest_hostname, suggest_user_name,
};

/// Fills a translated plural message (from `ngettext`, written at the call
/// site so xgettext finds both forms): `{count}` becomes `n`, and each
/// `{name}` its value.
pub fn fill(translated: &str, n: u64, args: &[(&str, &str)]) -> String {
    let mut s = translated.replace("{count}", &n.to_string());
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// Human size ("12.3 GB"), translated by GLib.
pub fn format_size(bytes: u64) -> String {
    gtk::glib::format_size(bytes).to_string()
}
