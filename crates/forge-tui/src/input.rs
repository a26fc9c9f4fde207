//! Reads the terminal on its own thread and hands the app *batches*: every
//! event that was available in one read of the terminal (the first event
//! plus whatever is already buffered behind it). A batch with many
//! printable characters is input no person types (a paste without brackets,
//! `tmux send-keys -l`); the integrity phrase refuses such batches
//! ([`crate::paste_guard`]).
//!
//! [`Input::pause`] stops the reading (while the text polkit agent owns the
//! terminal) until its guard is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossterm::event::{self, Event};
use tokio::sync::mpsc;

#[derive(Default)]
struct Control {
    paused: Mutex<bool>,
    wake: Condvar,
    /// Held by the reader while it polls the terminal.
    polling: Mutex<()>,
    stop: AtomicBool,
}

/// The reader thread's handle; stops the thread when dropped.
pub struct Input {
    pub batches: mpsc::UnboundedReceiver<Vec<Event>>,
    control: Arc<Control>,
}

/// While alive, the reader does not touch the terminal.
pub struct Paused<'a> {
    control: &'a Control,
}

impl Input {
    /// Starts the reader thread.
    pub fn start() -> Input {
        let (tx, batches) = mpsc::unbounded_channel();
        let control = Arc::new(Control::default());
        let c = control.clone();
        std::thread::Builder::new()
            .name("forge-tui-input".into())
            .spawn(move || read_loop(&c, &tx))
            .expect("spawn the input thread");
        Input { batches, control }
    }

    /// Stops reading until the returned guard is dropped; returns once the
    /// reader is no longer polling.
    pub fn pause(&self) -> Paused<'_> {
        *lock(&self.control.paused) = true;
        drop(lock(&self.control.polling));
        Paused {
            control: &self.control,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        *lock(&self.control.paused) = false;
        self.control.wake.notify_all();
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::SeqCst);
        self.control.wake.notify_all();
    }
}

fn read_loop(c: &Control, tx: &mpsc::UnboundedSender<Vec<Event>>) {
    loop {
        {
            let mut paused = lock(&c.paused);
            while *paused && !c.stop.load(Ordering::SeqCst) {
                paused = c.wake.wait(paused).unwrap_or_else(|e| e.into_inner());
            }
        }
        if c.stop.load(Ordering::SeqCst) || tx.is_closed() {
            return;
        }
        let _polling = lock(&c.polling);
        if *lock(&c.paused) {
            continue;
        }
        match event::poll(Duration::from_millis(50)) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => return,
        }
        let mut batch = Vec::new();
        while let Ok(ev) = event::read() {
            batch.push(ev);
            if !matches!(event::poll(Duration::ZERO), Ok(true)) {
                break;
            }
        }
        if batch.is_empty() || tx.send(batch).is_err() {
            return;
        }
    }
}
