//! The install flow, everything after Install on the confirm step: the
//! `Install` call (polkit asks for the password), the progress screen fed
//! with the job's events, the integrity dialog when the daemon asks (and
//! its override), Cancel, and the done screen. All D-Bus calls are awaited
//! from `glib::spawn_future_local`; the window only pages.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use adw::prelude::*;
use gtk::glib;

use forge_proto::i18n::tr;

use crate::client::{Client, ClientError};
use crate::model::{JobEvent, Mismatch};
use crate::screens::confirm::ConfirmPage;
use crate::screens::done::DonePage;
use crate::screens::integrity_dialog::IntegrityDialog;
use crate::screens::progress::ProgressPage;
use crate::window::ForgeWindow;

/// The flow's screens and the running job, held by the window.
#[derive(Default)]
pub struct InstallFlow {
    confirm: OnceCell<ConfirmPage>,
    progress: OnceCell<ProgressPage>,
    done: OnceCell<DonePage>,
    /// Object path of the running job.
    job: RefCell<Option<String>>,
    dialog: RefCell<Option<IntegrityDialog>>,
}

impl InstallFlow {
    /// The confirm step's Install button starts the flow.
    pub fn attach_confirm(&self, window: &ForgeWindow, confirm: &ConfirmPage) {
        confirm.connect_install_requested(glib::clone!(
            #[weak]
            window,
            move || start(&window)
        ));
        let _ = self.confirm.set(confirm.clone());
    }

    /// Adds the progress and done screens to the pager (once).
    pub fn add_screens(&self, window: &ForgeWindow, pager: &gtk::Stack) {
        if self.progress.get().is_some() {
            return;
        }
        let progress = ProgressPage::new();
        let done = DonePage::new();
        pager.add_named(&progress, Some("progress"));
        pager.add_named(&done, Some("done"));
        crate::a11y::name_controls(&progress);
        crate::a11y::name_controls(&done);
        progress.connect_cancel_requested(glib::clone!(
            #[weak]
            window,
            move || cancel(&window)
        ));
        let _ = self.progress.set(progress);
        let _ = self.done.set(done);
    }

    pub fn progress(&self) -> Option<ProgressPage> {
        self.progress.get().cloned()
    }

    pub fn done(&self) -> Option<DonePage> {
        self.done.get().cloned()
    }

    pub fn dialog(&self) -> Option<IntegrityDialog> {
        self.dialog.borrow().clone()
    }

    fn job(&self) -> Option<String> {
        self.job.borrow().clone()
    }

    /// Closes the integrity dialog if it is open.
    fn close_dialog(&self) {
        if let Some(d) = self.dialog.borrow_mut().take() {
            d.close();
        }
    }

    /// Routes one job event: progress always; the integrity dialog on
    /// `IntegrityFailed`; the done screen on `Finished`.
    pub fn handle_event(window: &ForgeWindow, ev: JobEvent) {
        let flow = window.flow();
        if let Some(p) = flow.progress.get() {
            p.handle_event(&ev);
        }
        match ev {
            JobEvent::IntegrityFailed { mismatches, phrase } => {
                open_integrity_dialog(window, &mismatches, &phrase);
            }
            JobEvent::Finished {
                success,
                phase_completed,
                error,
                warnings,
            } => {
                flow.close_dialog();
                let image = std::path::Path::new(&window.state().choices().disk).is_file();
                if let Some(d) = flow.done.get() {
                    d.set_secure_boot(window.state().installs_efi());
                    d.show_result(success, phase_completed, &error, &warnings, image);
                }
                window.show_screen("done");
            }
            _ => {}
        }
    }
}

/// Install pressed on the confirm step.
fn start(window: &ForgeWindow) {
    let Some(confirm) = window.flow().confirm.get().cloned() else {
        return;
    };
    let Some(client) = window.client() else {
        confirm.show_error(&ClientError {
            message: tr("The installer service is not running."),
            detail: String::from("no D-Bus client in this window"),
        });
        return;
    };
    let state = window.state();
    let yaml = state.plan_yaml();
    let io = state.io();
    confirm.set_busy(true);
    glib::spawn_future_local(glib::clone!(
        #[weak]
        window,
        async move {
            let res = client.install(yaml, io).await;
            confirm.set_busy(false);
            match res {
                Err(e) => {
                    tracing::warn!("Install failed: {}", e.detail);
                    confirm.show_error(&e);
                }
                Ok(mut job) => {
                    *window.flow().job.borrow_mut() = Some(job.path.clone());
                    window.show_screen("progress");
                    while let Some(ev) = job.events.recv().await {
                        window.handle_event(ev);
                    }
                }
            }
        }
    ));
}

fn open_integrity_dialog(window: &ForgeWindow, mismatches: &[Mismatch], phrase: &str) {
    let dialog = IntegrityDialog::new(window, mismatches, phrase);
    dialog.connect_override(glib::clone!(
        #[weak]
        window,
        move |typed| override_integrity(&window, typed)
    ));
    dialog.connect_stop(glib::clone!(
        #[weak]
        window,
        move || cancel(&window)
    ));
    dialog.present();
    *window.flow().dialog.borrow_mut() = Some(dialog);
}

fn override_integrity(window: &ForgeWindow, phrase: String) {
    on_job(window, move |window, client, job| async move {
        let res = client.override_integrity(job, phrase).await;
        let flow = window.flow();
        match res {
            Ok(()) => flow.close_dialog(),
            Err(e) => {
                tracing::warn!("OverrideIntegrity: {}", e.detail);
                if let Some(d) = flow.dialog() {
                    d.show_error(&e.message);
                }
            }
        }
    });
}

fn cancel(window: &ForgeWindow) {
    on_job(window, |window, client, job| async move {
        if let Err(e) = client.cancel(job).await {
            window.toast_error(&e);
        }
    });
}

/// Runs `call` on the main loop with the client and the running job's
/// path, when there is a job; the window is held only while it runs.
fn on_job<F, Fut>(window: &ForgeWindow, call: F)
where
    F: FnOnce(ForgeWindow, Rc<Client>, String) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let (Some(client), Some(job)) = (window.client(), window.flow().job()) else {
        return;
    };
    glib::spawn_future_local(call(window.clone(), client, job));
}
