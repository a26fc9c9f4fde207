//! Users: full name, user name (suggested from the full name), the password
//! entered hidden with its confirmation, administrator, the root-password
//! choice (same as the user's, or its own with confirmation), the Secure
//! Boot password for EFI installs, and the computer name (suggested from
//! the user name). A field's problems show under it once it was edited;
//! every problem of the step gates Next.

use std::collections::BTreeSet;

use crate::screens::labels::plain;
use crossterm::event::{KeyCode, KeyEvent};
use forge_proto::i18n::{tr, trf};
use forge_proto::wizard::{
    fields, password_strength, suggest_hostname, suggest_user_name, Choices, Step,
};
use forge_proto::Secret;

use crate::app::App;
use crate::widgets::draw::Body;
use crate::widgets::TextField;

const SB_FIELD: &str = "install_io.secure_boot_password";

/// The focusable items, in order (some only shown in some cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    FullName,
    UserName,
    Password,
    Confirm,
    Admin,
    Same,
    Root,
    RootConfirm,
    SecureBoot,
    SecureBootConfirm,
    Hostname,
}

impl Item {
    /// The problem field this item edits.
    fn field(self) -> &'static str {
        match self {
            Item::FullName => "user.full_name",
            Item::UserName => "user.name",
            Item::Password => "install_io.user_password",
            Item::Confirm => fields::USER_PASSWORD_CONFIRM,
            Item::Root => "install_io.root_password",
            Item::RootConfirm => fields::ROOT_PASSWORD_CONFIRM,
            Item::SecureBoot => SB_FIELD,
            Item::SecureBootConfirm => fields::SECURE_BOOT_PASSWORD_CONFIRM,
            Item::Hostname => "hostname",
            Item::Admin | Item::Same => "",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub full_name: TextField,
    pub user_name: TextField,
    pub password: TextField,
    pub confirm: TextField,
    pub root: TextField,
    pub root_confirm: TextField,
    pub sb: TextField,
    pub sb_confirm: TextField,
    pub hostname: TextField,
    /// Problem fields edited so far (their problems are shown).
    pub touched: BTreeSet<&'static str>,
    pub user_name_edited: bool,
    pub hostname_edited: bool,
}

impl State {
    pub fn new(c: &Choices) -> State {
        State {
            full_name: TextField::new(&c.full_name),
            user_name: TextField::new(&c.user_name),
            password: TextField::hidden(c.user_password.expose()),
            confirm: TextField::hidden(c.user_password_confirm.expose()),
            root: TextField::hidden(c.root_password.expose()),
            root_confirm: TextField::hidden(c.root_password_confirm.expose()),
            sb: TextField::hidden(c.secure_boot_password.expose()),
            sb_confirm: TextField::hidden(c.secure_boot_password_confirm.expose()),
            hostname: TextField::new(&c.hostname),
            ..State::default()
        }
    }

    fn field_mut(&mut self, item: Item) -> Option<&mut TextField> {
        Some(match item {
            Item::FullName => &mut self.full_name,
            Item::UserName => &mut self.user_name,
            Item::Password => &mut self.password,
            Item::Confirm => &mut self.confirm,
            Item::Root => &mut self.root,
            Item::RootConfirm => &mut self.root_confirm,
            Item::SecureBoot => &mut self.sb,
            Item::SecureBootConfirm => &mut self.sb_confirm,
            Item::Hostname => &mut self.hostname,
            Item::Admin | Item::Same => return None,
        })
    }
}

/// The items shown now.
pub fn layout(app: &App) -> Vec<Item> {
    let mut v = vec![
        Item::FullName,
        Item::UserName,
        Item::Password,
        Item::Confirm,
        Item::Admin,
        Item::Same,
    ];
    if !app.wizard.choices().root_same_as_user {
        v.extend([Item::Root, Item::RootConfirm]);
    }
    if app.wizard.installs_efi() {
        v.extend([Item::SecureBoot, Item::SecureBootConfirm]);
    }
    v.push(Item::Hostname);
    v
}

pub fn items(app: &App) -> usize {
    layout(app).len()
}

/// Copies the edited field into the wizard's choices (with suggestions).
fn store(app: &mut App, item: Item) {
    let st = &mut app.user;
    st.touched.insert(item.field());
    match item {
        Item::FullName => {
            let full = st.full_name.value().to_string();
            app.wizard.update(|c| c.full_name = full.clone());
            if !app.user.user_name_edited {
                let u = suggest_user_name(&full);
                app.user.user_name.set(&u);
                set_user_name(app, u);
            }
        }
        Item::UserName => {
            let u = st.user_name.value().to_string();
            st.user_name_edited = !u.is_empty();
            st.touched.insert("hostname");
            set_user_name(app, u);
        }
        Item::Hostname => {
            let h = st.hostname.value().to_string();
            st.hostname_edited = !h.is_empty();
            app.wizard.update(|c| c.hostname = h);
        }
        _ => {
            let Some(f) = st.field_mut(item) else { return };
            let s = Secret::new(f.value());
            app.wizard.update(|c| match item {
                Item::Password => c.user_password = s,
                Item::Confirm => c.user_password_confirm = s,
                Item::Root => c.root_password = s,
                Item::RootConfirm => c.root_password_confirm = s,
                Item::SecureBoot => c.secure_boot_password = s,
                _ => c.secure_boot_password_confirm = s,
            });
        }
    }
}

fn set_user_name(app: &mut App, name: String) {
    let host = (!app.user.hostname_edited).then(|| suggest_hostname(&name));
    if let Some(h) = &host {
        app.user.hostname.set(h);
    }
    app.wizard.update(|c| {
        c.user_name = name;
        if let Some(h) = host {
            c.hostname = h;
        }
    });
}

pub fn key(app: &mut App, k: &KeyEvent) -> bool {
    let Some(&item) = layout(app).get(app.focus) else {
        return false;
    };
    if matches!(item, Item::Admin | Item::Same) {
        if !matches!(k.code, KeyCode::Char(' ') | KeyCode::Enter) {
            return false;
        }
        app.wizard.update(|c| match item {
            Item::Admin => c.admin = !c.admin,
            _ => c.root_same_as_user = !c.root_same_as_user,
        });
        return true;
    }
    if k.code == KeyCode::Enter {
        return false;
    }
    let Some(f) = app.user.field_mut(item) else {
        return false;
    };
    let (handled, changed) = f.key(k);
    if changed {
        store(app, item);
    }
    handled
}

pub fn paste(app: &mut App, text: &str) {
    let Some(&item) = layout(app).get(app.focus) else {
        return;
    };
    if let Some(f) = app.user.field_mut(item) {
        f.insert(text);
        store(app, item);
    }
}

pub fn render(app: &App, b: &mut Body) {
    let t = app.theme;
    let c = app.wizard.choices();
    let problems = app.wizard.step_problems(Step::User);
    let st = &app.user;
    for (i, item) in layout(app).into_iter().enumerate() {
        let focused = app.focus == i;
        let field = item.field();
        let shown: Vec<&str> = problems
            .iter()
            .filter(|p| !field.is_empty() && p.field == field && st.touched.contains(field))
            .map(|p| p.message.as_str())
            .collect();
        let bad = !shown.is_empty();
        match item {
            Item::FullName => {
                b.heading(&tr("Your Account"));
                b.field(&plain("_Full name"), &st.full_name, focused, bad);
            }
            Item::UserName => b.field(&plain("_User name"), &st.user_name, focused, bad),
            Item::Password => {
                b.field(&plain("_Password"), &st.password, focused, bad);
                let (score, label) = password_strength(st.password.value());
                let bar = format!(
                    "{}{}",
                    "#".repeat(score as usize),
                    ".".repeat(4 - score.min(4) as usize)
                );
                b.prefixed("      ", &format!("{bar} {label}"), t.dim());
            }
            Item::Confirm => b.field(&plain("_Confirm password"), &st.confirm, focused, bad),
            Item::Admin => b.checkbox(&tr("Administrator"), c.admin, focused, false),
            Item::Same => {
                b.blank();
                b.heading(&tr("Root Account"));
                b.checkbox(
                    &tr("Use the same password for root"),
                    c.root_same_as_user,
                    focused,
                    false,
                );
                let who = if c.user_name.is_empty() {
                    tr("your account")
                } else {
                    c.user_name.clone()
                };
                let line = if c.root_same_as_user {
                    trf(
                        "The root account will have the same password as {user}.",
                        &[("user", &who)],
                    )
                } else {
                    tr("The root account gets its own password, entered below.")
                };
                b.prefixed("      ", &line, t.dim());
            }
            Item::Root => b.field(&plain("_Root password"), &st.root, focused, bad),
            Item::RootConfirm => b.field(
                &plain("Confirm r_oot password"),
                &st.root_confirm,
                focused,
                bad,
            ),
            Item::SecureBoot => {
                b.blank();
                b.heading(&tr("Secure Boot"));
                b.prefixed("  ", &tr("At the next start, a blue MokManager screen asks for this password once, to enroll this computer's Secure Boot key. Choose one only for that."), t.dim());
                b.field(&plain("_Secure Boot password"), &st.sb, focused, bad);
            }
            Item::SecureBootConfirm => b.field(
                &plain("Confirm Secure Boot pass_word"),
                &st.sb_confirm,
                focused,
                bad,
            ),
            Item::Hostname => {
                b.blank();
                b.heading(&tr("Computer"));
                b.field(&tr("Computer name"), &st.hostname, focused, bad);
            }
        }
        for m in shown {
            b.prefixed("    ! ", m, t.problem());
        }
        if focused {
            // The focused field's problems stay in view with it.
            b.keep = Some(b.lines.len().saturating_sub(1));
        }
    }
}
