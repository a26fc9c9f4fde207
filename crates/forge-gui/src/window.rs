//! The installer window: one `GtkStack` pager holding the eight screens,
//! `win.next-page` / `win.previous-page` actions (Next enabled only when the
//! current screen is complete), and the install flow: Install on the confirm
//! screen -> progress (job events) -> integrity dialog if the daemon asks ->
//! done. All D-Bus calls are awaited from `glib::spawn_future_local`.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use forge_proto::i18n::{tr, trf};

use crate::client::{Client, ClientError};
use crate::model::JobEvent;
use crate::screens::confirm::ConfirmPage;
use crate::screens::disk::DiskPage;
use crate::screens::done::DonePage;
use crate::screens::integrity_dialog::IntegrityDialog;
use crate::screens::keyboard_locale::KeyboardLocalePage;
use crate::screens::packages::PackagesPage;
use crate::screens::progress::ProgressPage;
use crate::screens::user::UserPage;
use crate::screens::welcome::WelcomePage;
use crate::state::ForgeState;

/// Names of the wizard steps in order (the stack child names).
pub const STEPS: [&str; 6] = [
    "welcome",
    "keyboard_locale",
    "disk",
    "user",
    "packages",
    "confirm",
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
        pub steps: RefCell<Vec<gtk::Widget>>,
        pub index: Cell<usize>,
        pub confirm: OnceCell<ConfirmPage>,
        pub disk: OnceCell<DiskPage>,
        pub progress: OnceCell<ProgressPage>,
        pub done: OnceCell<DonePage>,
        pub job: RefCell<Option<String>>,
        pub dialog: RefCell<Option<IntegrityDialog>>,
        /// A ListDisks failure that arrived before the disk screen existed.
        pub disk_error: RefCell<Option<ClientError>>,
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
    pub fn new_standalone(state: &ForgeState) -> Self {
        let w: ForgeWindow = glib::Object::new();
        w.setup(state, None);
        w
    }

    fn setup(&self, state: &ForgeState, client: Option<Rc<Client>>) {
        let imp = self.imp();
        let _ = imp.state.set(state.clone());
        let _ = imp.client.set(client);
        // Only the welcome screen is built before the first frame; the
        // others (system lists, iso-codes names) follow when idle.
        let welcome = WelcomePage::new(state);
        self.add_step(welcome.upcast());
        crate::a11y::name_controls(&*imp.back_button);
        crate::a11y::name_controls(&*imp.next_button);
        self.show_index(0);
        self.load_daemon_data();
        let w = self.downgrade();
        glib::idle_add_local_full(glib::Priority::LOW, move || {
            if let Some(w) = w.upgrade() {
                w.ensure_pages();
            }
            glib::ControlFlow::Break
        });
    }

    fn add_step(&self, page: gtk::Widget) {
        crate::a11y::name_controls(&page);
        let imp = self.imp();
        let i = imp.steps.borrow().len();
        imp.pager.add_named(&page, Some(STEPS[i]));
        let w = self.downgrade();
        page.connect_notify_local(Some("complete"), move |_, _| {
            if let Some(w) = w.upgrade() {
                w.update_nav();
            }
        });
        imp.steps.borrow_mut().push(page);
    }

    /// Builds the screens after the welcome screen (once).
    pub fn ensure_pages(&self) {
        let imp = self.imp();
        if imp.steps.borrow().len() == STEPS.len() {
            return;
        }
        let state = self.state();
        let kl = KeyboardLocalePage::new(&state);
        let disk = DiskPage::new(&state);
        let user = UserPage::new(&state);
        let packages = PackagesPage::new(&state);
        let confirm = ConfirmPage::new(&state);
        for page in [
            kl.upcast::<gtk::Widget>(),
            disk.clone().upcast(),
            user.upcast(),
            packages.upcast(),
            confirm.clone().upcast(),
        ] {
            self.add_step(page);
        }
        let progress = ProgressPage::new();
        let done = DonePage::new();
        imp.pager.add_named(&progress, Some("progress"));
        imp.pager.add_named(&done, Some("done"));
        crate::a11y::name_controls(&progress);
        crate::a11y::name_controls(&done);

        let w = self.downgrade();
        confirm.connect_install_requested(move || {
            if let Some(w) = w.upgrade() {
                w.start_install();
            }
        });
        let w = self.downgrade();
        progress.connect_cancel_requested(move || {
            if let Some(w) = w.upgrade() {
                w.cancel_job();
            }
        });
        let _ = imp.confirm.set(confirm);
        let _ = imp.disk.set(disk);
        let _ = imp.progress.set(progress);
        let _ = imp.done.set(done);
        if let Some(e) = imp.disk_error.borrow_mut().take() {
            if let Some(p) = imp.disk.get() {
                p.set_load_error(&e);
            }
        }
        self.update_nav();
    }

    pub fn state(&self) -> ForgeState {
        self.imp().state.get().cloned().unwrap_or_default()
    }

    fn client(&self) -> Option<Rc<Client>> {
        self.imp().client.get().cloned().flatten()
    }

    /// The page widget of a step or screen name.
    pub fn page(&self, name: &str) -> Option<gtk::Widget> {
        self.ensure_pages();
        self.imp().pager.child_by_name(name)
    }

    pub fn progress_page(&self) -> Option<ProgressPage> {
        self.ensure_pages();
        self.imp().progress.get().cloned()
    }

    pub fn done_page(&self) -> Option<DonePage> {
        self.ensure_pages();
        self.imp().done.get().cloned()
    }

    pub fn integrity_dialog(&self) -> Option<IntegrityDialog> {
        self.imp().dialog.borrow().clone()
    }

    /// Name of the visible screen.
    pub fn current_screen(&self) -> String {
        self.imp()
            .pager
            .visible_child_name()
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    fn show_index(&self, i: usize) {
        let imp = self.imp();
        imp.index.set(i);
        let page = imp.steps.borrow().get(i).cloned();
        if let Some(page) = page {
            if let Some(c) = page.downcast_ref::<ConfirmPage>() {
                c.refresh();
            }
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
        let screen = self.current_screen();
        let in_wizard = STEPS.contains(&screen.as_str());
        let i = imp.index.get();
        let complete = self.step_complete();
        let has_next = in_wizard && i + 1 < STEPS.len();
        self.action_set_enabled("win.next-page", has_next && complete);
        self.action_set_enabled("win.previous-page", in_wizard && i > 0);
        imp.next_button.set_visible(has_next);
        imp.back_button.set_visible(in_wizard && i > 0);
    }

    /// Whether the visible step may be left forward (what enables Next).
    fn step_complete(&self) -> bool {
        let imp = self.imp();
        let screen = self.current_screen();
        STEPS.contains(&screen.as_str())
            && imp
                .steps
                .borrow()
                .get(imp.index.get())
                .map(|p| p.property::<bool>("complete"))
                .unwrap_or(false)
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
        if STEPS.contains(&self.current_screen().as_str()) && i > 0 {
            self.show_index(i - 1);
        }
    }

    /// Shows a short message; the detail goes to the log.
    pub fn toast_error(&self, e: &ClientError) {
        tracing::warn!("{}", e.detail);
        self.imp().toasts.add_toast(adw::Toast::new(&e.message));
    }

    /// Fetches release, disks and groups from the daemon without blocking.
    fn load_daemon_data(&self) {
        let Some(client) = self.client() else {
            return;
        };
        let w = self.downgrade();
        glib::spawn_future_local(async move {
            let disks = client.list_disks().await;
            let groups = client.list_package_groups().await;
            let Some(w) = w.upgrade() else { return };
            let state = w.state();
            match groups {
                Ok(g) => state.set_groups(g),
                Err(e) => w.toast_error(&e),
            }
            match disks {
                Ok(d) => state.set_disks(d),
                Err(e) => match w.imp().disk.get() {
                    Some(p) => p.set_load_error(&e),
                    None => *w.imp().disk_error.borrow_mut() = Some(e),
                },
            }
        });
    }

    /// Install pressed on the confirm screen.
    pub fn start_install(&self) {
        let Some(confirm) = self.imp().confirm.get().cloned() else {
            return;
        };
        let Some(client) = self.client() else {
            confirm.show_error(&ClientError {
                message: tr("The installer service is not running."),
                detail: String::from("no D-Bus client in this window"),
            });
            return;
        };
        let state = self.state();
        let yaml = state.plan().to_canonical_yaml();
        let io = state.io();
        confirm.set_busy(true);
        let w = self.downgrade();
        glib::spawn_future_local(async move {
            let res = client.install(yaml, io).await;
            let Some(w) = w.upgrade() else { return };
            confirm.set_busy(false);
            match res {
                Err(e) => {
                    tracing::warn!("Install failed: {}", e.detail);
                    confirm.show_error(&e);
                }
                Ok(mut job) => {
                    *w.imp().job.borrow_mut() = Some(job.path.clone());
                    w.show_screen("progress");
                    while let Some(ev) = job.events.recv().await {
                        w.handle_event(ev);
                    }
                }
            }
        });
    }

    /// Shows step `name` without checking the steps before it (tests and
    /// screenshots; people move with Next and Back).
    pub fn jump_to_step(&self, name: &str) {
        self.ensure_pages();
        if let Some(i) = STEPS.iter().position(|s| *s == name) {
            self.show_index(i);
        }
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

    /// Routes one job event to the screens.
    pub fn handle_event(&self, ev: JobEvent) {
        self.ensure_pages();
        let imp = self.imp();
        if let Some(p) = imp.progress.get() {
            p.handle_event(&ev);
        }
        match ev {
            JobEvent::IntegrityFailed(mismatches, phrase) => {
                self.open_integrity_dialog(mismatches, phrase);
            }
            JobEvent::Finished {
                success,
                phase_completed,
                error,
                warnings,
            } => {
                if let Some(d) = imp.dialog.borrow_mut().take() {
                    d.close();
                }
                let image = std::path::Path::new(&self.state().choices().disk).is_file();
                if let Some(d) = imp.done.get() {
                    d.show_result(success, &phase_completed, &error, &warnings, image);
                }
                self.show_screen("done");
            }
            _ => {}
        }
    }

    fn open_integrity_dialog(&self, mismatches: Vec<(String, String, String)>, phrase: String) {
        let dialog = IntegrityDialog::new(self, &mismatches, &phrase);
        let w = self.downgrade();
        dialog.connect_override(move |typed| {
            if let Some(w) = w.upgrade() {
                w.override_integrity(typed);
            }
        });
        let w = self.downgrade();
        dialog.connect_stop(move || {
            if let Some(w) = w.upgrade() {
                w.cancel_job();
            }
        });
        dialog.present();
        *self.imp().dialog.borrow_mut() = Some(dialog);
    }

    fn override_integrity(&self, phrase: String) {
        let (Some(client), Some(job)) = (self.client(), self.imp().job.borrow().clone()) else {
            return;
        };
        let w = self.downgrade();
        glib::spawn_future_local(async move {
            let res = client.override_integrity(job, phrase).await;
            let Some(w) = w.upgrade() else { return };
            let dialog = w.imp().dialog.borrow().clone();
            match res {
                Ok(()) => {
                    if let Some(d) = w.imp().dialog.borrow_mut().take() {
                        d.close();
                    }
                }
                Err(e) => {
                    tracing::warn!("OverrideIntegrity: {}", e.detail);
                    if let Some(d) = dialog {
                        d.show_error(&e.message);
                    }
                }
            }
        });
    }

    fn cancel_job(&self) {
        let (Some(client), Some(job)) = (self.client(), self.imp().job.borrow().clone()) else {
            return;
        };
        let w = self.downgrade();
        glib::spawn_future_local(async move {
            if let Err(e) = client.cancel(job).await {
                if let Some(w) = w.upgrade() {
                    w.toast_error(&e);
                }
            }
        });
    }
}
