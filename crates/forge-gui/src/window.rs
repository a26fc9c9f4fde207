//! The installer window: the pager. One `GtkStack` holds the wizard's steps
//! (every one a [`ForgeStep`], in the order of [`STEPS`]) and the progress
//! and done screens; `win.next-page` / `win.previous-page` move through the
//! steps (Next enabled only while the current step is complete). What
//! happens after Install is the install flow (`install_flow.rs`).

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use forge_proto::i18n::{tr, trf};

use crate::client::{Client, ClientError};
use crate::install_flow::InstallFlow;
use crate::screens::confirm::ConfirmPage;
use crate::screens::disk::DiskPage;
use crate::screens::keyboard_locale::KeyboardLocalePage;
use crate::screens::packages::PackagesPage;
use crate::screens::user::UserPage;
use crate::screens::welcome::WelcomePage;
use crate::screens::{ForgeStep, ForgeStepExt};
use crate::state::ForgeState;

/// Builds one step's page for the window over the state.
type BuildStep = fn(&ForgeWindow, &ForgeState) -> ForgeStep;

/// The wizard's steps in order: stack child name and how the page is built.
/// The only place that knows the order.
pub const STEPS: [(&str, BuildStep); 6] = [
    ("welcome", |_, s| WelcomePage::new(s).upcast()),
    ("keyboard_locale", |_, s| {
        KeyboardLocalePage::new(s).upcast()
    }),
    ("disk", |_, s| DiskPage::new(s).upcast()),
    ("user", |_, s| UserPage::new(s).upcast()),
    ("packages", |_, s| PackagesPage::new(s).upcast()),
    ("confirm", |w, s| {
        let confirm = ConfirmPage::new(s);
        w.flow().attach_confirm(w, &confirm);
        confirm.upcast()
    }),
];

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/org/intergenos/Forge/window.ui")]
    pub struct ForgeWindow {
        #[template_child]
        pub pager: TemplateChild<gtk::Stack>,
        #[template_child]
        pub back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub next_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub window_title: TemplateChild<adw::WindowTitle>,
        #[template_child]
        pub toasts: TemplateChild<adw::ToastOverlay>,
        pub state: OnceCell<ForgeState>,
        pub client: OnceCell<Option<Rc<Client>>>,
        /// The steps built so far, in [`STEPS`] order.
        pub steps: RefCell<Vec<ForgeStep>>,
        pub index: Cell<usize>,
        pub flow: InstallFlow,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ForgeWindow {
        const NAME: &'static str = "ForgeWindow";
        type Type = super::ForgeWindow;
        type ParentType = adw::ApplicationWindow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("win.next-page", None, |w, _, _| w.go_next());
            klass.install_action("win.previous-page", None, |w, _, _| w.go_back());
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ForgeWindow {}
    impl WidgetImpl for ForgeWindow {}
    impl WindowImpl for ForgeWindow {}
    impl ApplicationWindowImpl for ForgeWindow {}
    impl AdwApplicationWindowImpl for ForgeWindow {}
}

glib::wrapper! {
    pub struct ForgeWindow(ObjectSubclass<imp::ForgeWindow>)
        @extends adw::ApplicationWindow, gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Buildable,
                    gtk::ConstraintTarget, gtk::Native, gtk::Root, gtk::ShortcutManager;
}

impl ForgeWindow {
    /// The window over `state`; `client` is None in tests without a daemon.
    pub fn new(app: &adw::Application, state: &ForgeState, client: Option<Rc<Client>>) -> Self {
        let w: ForgeWindow = glib::Object::builder().property("application", app).build();
        w.setup(state, client);
        w
    }

    /// Without an application (UI tests).
    #[cfg(feature = "autopilot")]
    pub fn new_standalone(state: &ForgeState) -> Self {
        let w: ForgeWindow = glib::Object::new();
        w.setup(state, None);
        w
    }

    fn setup(&self, state: &ForgeState, client: Option<Rc<Client>>) {
        let imp = self.imp();
        let _ = imp.state.set(state.clone());
        let _ = imp.client.set(client);
        // Only the first step is built before the first frame; the others
        // (system lists, iso-codes names) follow when idle.
        self.add_next_step();
        crate::a11y::name_controls(&*imp.back_button);
        crate::a11y::name_controls(&*imp.next_button);
        self.show_index(0);
        self.load_daemon_data();
        glib::idle_add_local_full(
            glib::Priority::LOW,
            glib::clone!(
                #[weak(rename_to = w)]
                self,
                #[upgrade_or]
                glib::ControlFlow::Break,
                move || {
                    w.ensure_pages();
                    glib::ControlFlow::Break
                }
            ),
        );
    }

    /// Builds the next step of [`STEPS`] and adds it to the pager.
    fn add_next_step(&self) {
        let imp = self.imp();
        let i = imp.steps.borrow().len();
        let (name, build) = STEPS[i];
        let page = build(self, &self.state());
        crate::a11y::name_controls(&page);
        imp.pager.add_named(&page, Some(name));
        page.connect_complete_notify(glib::clone!(
            #[weak(rename_to = w)]
            self,
            move |_| w.update_nav()
        ));
        imp.steps.borrow_mut().push(page);
    }

    /// Builds the steps after the first and the install flow's screens
    /// (once).
    pub fn ensure_pages(&self) {
        if self.imp().steps.borrow().len() == STEPS.len() {
            return;
        }
        while self.imp().steps.borrow().len() < STEPS.len() {
            self.add_next_step();
        }
        self.flow().add_screens(self, &self.imp().pager);
        self.update_nav();
    }

    pub fn state(&self) -> ForgeState {
        self.imp().state.get().cloned().unwrap_or_default()
    }

    pub(crate) fn client(&self) -> Option<Rc<Client>> {
        self.imp().client.get().cloned().flatten()
    }

    pub(crate) fn flow(&self) -> &InstallFlow {
        &self.imp().flow
    }

    /// Name of the visible screen.
    pub fn current_screen(&self) -> String {
        self.imp()
            .pager
            .visible_child_name()
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    /// Whether a wizard step (not progress or done) is showing.
    fn in_wizard(&self) -> bool {
        let screen = self.current_screen();
        STEPS.iter().any(|(name, _)| *name == screen)
    }

    fn show_index(&self, i: usize) {
        let imp = self.imp();
        imp.index.set(i);
        let page = imp.steps.borrow().get(i).cloned();
        if let Some(page) = page {
            page.enter();
            imp.pager.set_visible_child(&page);
        }
        imp.window_title.set_subtitle(&trf(
            "Step {n} of {total}",
            &[
                ("n", &(i + 1).to_string()),
                ("total", &STEPS.len().to_string()),
            ],
        ));
        self.update_nav();
    }

    /// Next is enabled only when the current step says it is complete.
    pub fn update_nav(&self) {
        let imp = self.imp();
        let in_wizard = self.in_wizard();
        let i = imp.index.get();
        let has_next = in_wizard && i + 1 < STEPS.len();
        self.action_set_enabled("win.next-page", has_next && self.step_complete());
        self.action_set_enabled("win.previous-page", in_wizard && i > 0);
        imp.next_button.set_visible(has_next);
        imp.back_button.set_visible(in_wizard && i > 0);
    }

    /// Whether the visible step may be left forward (what enables Next).
    fn step_complete(&self) -> bool {
        let imp = self.imp();
        self.in_wizard()
            && imp
                .steps
                .borrow()
                .get(imp.index.get())
                .is_some_and(|p| p.complete())
    }

    pub fn go_next(&self) {
        self.ensure_pages();
        let i = self.imp().index.get();
        if self.step_complete() && i + 1 < STEPS.len() {
            self.show_index(i + 1);
        }
    }

    pub fn go_back(&self) {
        let i = self.imp().index.get();
        if self.in_wizard() && i > 0 {
            self.show_index(i - 1);
        }
    }

    /// Shows a short message; the detail goes to the log.
    pub fn toast_error(&self, e: &ClientError) {
        tracing::warn!("{}", e.detail);
        self.imp().toasts.add_toast(adw::Toast::new(&e.message));
    }

    /// Fetches disks and groups from the daemon without blocking.
    fn load_daemon_data(&self) {
        let Some(client) = self.client() else {
            return;
        };
        let state = self.state();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = w)]
            self,
            async move {
                let disks = client.list_disks().await;
                let groups = client.list_package_groups().await;
                match groups {
                    Ok(g) => state.set_groups(g),
                    Err(e) => w.toast_error(&e),
                }
                match disks {
                    Ok(d) => state.set_disks(d),
                    Err(e) => state.set_disk_error(e),
                }
            }
        ));
    }

    /// Shows a non-step screen (progress, done).
    pub fn show_screen(&self, name: &str) {
        self.ensure_pages();
        self.imp().pager.set_visible_child_name(name);
        let subtitle = match name {
            "progress" => tr("Installing"),
            "done" => tr("Finished"),
            _ => String::new(),
        };
        self.imp().window_title.set_subtitle(&subtitle);
        self.update_nav();
    }

    /// Routes one job event to the install flow (progress, the integrity
    /// dialog, done).
    pub fn handle_event(&self, ev: crate::model::JobEvent) {
        self.ensure_pages();
        InstallFlow::handle_event(self, ev);
    }
}

/// Reaching into the window from the UI tests and the autopilot (feature
/// `autopilot`).
#[cfg(feature = "autopilot")]
impl ForgeWindow {
    /// The page widget of a step or screen name.
    pub fn page(&self, name: &str) -> Option<gtk::Widget> {
        self.ensure_pages();
        self.imp().pager.child_by_name(name)
    }

    pub fn progress_page(&self) -> Option<crate::screens::progress::ProgressPage> {
        self.ensure_pages();
        self.flow().progress()
    }

    pub fn done_page(&self) -> Option<crate::screens::done::DonePage> {
        self.ensure_pages();
        self.flow().done()
    }

    pub fn integrity_dialog(&self) -> Option<crate::screens::integrity_dialog::IntegrityDialog> {
        self.flow().dialog()
    }

    /// Shows step `name` without checking the steps before it (tests and
    /// screenshots; people move with Next and Back).
    pub fn jump_to_step(&self, name: &str) {
        self.ensure_pages();
        if let Some(i) = STEPS.iter().position(|(s, _)| *s == name) {
            self.show_index(i);
        }
    }
}
