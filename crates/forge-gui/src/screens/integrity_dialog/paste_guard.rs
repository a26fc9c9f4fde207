//! Makes a `GtkEntry` accept typed input only, so a phrase must be typed in
//! full. Every route by which text can arrive without typing is closed:
//!
//! - keyboard shortcuts (Ctrl+V, Shift+Insert) and the context menu's Paste
//!   all emit `paste-clipboard` on the inner `GtkText` (`delegate()`): the
//!   emission is stopped;
//! - middle click pastes the PRIMARY selection directly: a button-2
//!   `GestureClick` in the capture phase claims the click first;
//! - drag and drop: the text's `GtkDropTarget` controllers are removed;
//! - AT-SPI `EditableText.PasteText` / `InsertText` / `SetTextContents`
//!   bypass the signal and call `gtk_editable_insert_text` directly. So
//!   every `insert-text` is checked against key events: a capture-phase key
//!   controller records the character of the key being pressed (no Ctrl or
//!   Alt), and an insertion is allowed if it is exactly that character
//!   during that key press;
//! - input methods (on-screen keyboards, ibus, compose): an insertion made
//!   while the text's IM context is emitting `commit` is allowed when the
//!   commit is a single character — that is typing, one key of the
//!   on-screen keyboard at a time. A commit of several characters (a word
//!   suggestion, an IM's own paste) is paste-like and refused. The guard
//!   tells a commit from other inserts by the IM context's current signal
//!   emission (`g_signal_get_invocation_hint`), since GtkText's own commit
//!   handler, which does the insert, runs before any handler we connect.
//!
//! Anything else is stopped.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gtk::glib;
use gtk::prelude::*;

/// Called on each refused attempt.
type RefusedHook = Rc<RefCell<Option<Box<dyn Fn()>>>>;

/// Keeps the guard's counters; the handlers live as long as the entry.
#[derive(Clone, Default)]
pub struct PasteGuard {
    refused: Rc<Cell<u32>>,
    on_refused: RefusedHook,
}

/// The IM context GtkText filters its key presses through (set on its own
/// key controller; GTK 4.8 has no `gtk_text_get_im_context`).
fn im_context_of(text: &gtk::Text) -> Option<gtk::IMContext> {
    let controllers = text.observe_controllers();
    (0..controllers.n_items())
        .filter_map(|i| {
            controllers
                .item(i)
                .and_downcast::<gtk::EventControllerKey>()
        })
        .find_map(|k| k.im_context())
}

/// Whether `im`'s innermost signal emission right now is `commit`.
fn in_commit(im: &gtk::IMContext) -> bool {
    use gtk::glib::translate::{IntoGlib, ToGlibPtr};
    let Some(commit) = glib::subclass::SignalId::lookup("commit", gtk::IMContext::static_type())
    else {
        return false;
    };
    let ptr: *mut glib::gobject_ffi::GObject = im.upcast_ref::<glib::Object>().to_glib_none().0;
    // SAFETY: `ptr` is a live GObject borrowed from `im` for this call; the
    // returned hint (or NULL) belongs to the running emission and is only
    // read before this function returns, while that emission is still on
    // the stack.
    unsafe {
        let hint = glib::gobject_ffi::g_signal_get_invocation_hint(ptr.cast());
        !hint.is_null() && (*hint).signal_id == commit.into_glib()
    }
}

/// Exactly one printable character (what one key of a keyboard commits).
fn is_one_char(s: &str) -> bool {
    let mut chars = s.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if !c.is_control())
}

impl PasteGuard {
    /// Installs the guard on `entry`.
    pub fn install(entry: &gtk::Entry) -> PasteGuard {
        let guard = PasteGuard::default();
        let Some(text) = entry.delegate().and_downcast::<gtk::Text>() else {
            tracing::error!("entry without a GtkText delegate: paste guard not installed");
            return guard;
        };

        // 1. Shortcuts and context menu.
        let g = guard.clone();
        text.connect_paste_clipboard(move |t| {
            t.stop_signal_emission_by_name("paste-clipboard");
            g.refuse();
        });

        // 2. Middle click.
        let middle = gtk::GestureClick::new();
        middle.set_button(gtk::gdk::BUTTON_MIDDLE);
        middle.set_propagation_phase(gtk::PropagationPhase::Capture);
        let g = guard.clone();
        middle.connect_pressed(move |gesture, _, _, _| {
            gesture.set_state(gtk::EventSequenceState::Claimed);
            g.refuse();
        });
        text.add_controller(middle);

        // 3. Drag and drop (on the text and on the entry itself).
        for w in [text.upcast_ref::<gtk::Widget>(), entry.upcast_ref()] {
            let controllers = w.observe_controllers();
            let mut drop = Vec::new();
            for i in 0..controllers.n_items() {
                if let Some(c) = controllers.item(i).and_downcast::<gtk::EventController>() {
                    if c.is::<gtk::DropTarget>() || c.is::<gtk::DropTargetAsync>() {
                        drop.push(c);
                    }
                }
            }
            for c in drop {
                w.remove_controller(&c);
            }
        }

        // 4. Only characters that come from key presses.
        let pending: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
        let keys = gtk::EventControllerKey::new();
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        let p = pending.clone();
        keys.connect_key_pressed(move |_, keyval, _, state| {
            let mods = gtk::gdk::ModifierType::CONTROL_MASK
                | gtk::gdk::ModifierType::ALT_MASK
                | gtk::gdk::ModifierType::SUPER_MASK;
            let ch = if state.intersects(mods) {
                None
            } else {
                keyval
                    .to_unicode()
                    .filter(|c| !c.is_control())
                    .map(String::from)
            };
            *p.borrow_mut() = ch;
            let p = p.clone();
            glib::idle_add_local_once(move || {
                p.borrow_mut().take();
            });
            glib::Propagation::Proceed
        });
        text.add_controller(keys);
        let g = guard.clone();
        let p = pending;
        let im = im_context_of(&text);
        if im.is_none() {
            tracing::warn!("GtkText without an IM context: input-method commits are refused");
        }
        text.connect_insert_text(move |t, new, _pos| {
            let typed = p.borrow_mut().take();
            let im_typed = im.as_ref().is_some_and(in_commit) && is_one_char(new);
            if typed.as_deref() != Some(new) && !im_typed {
                t.stop_signal_emission_by_name("insert-text");
                g.refuse();
            }
        });
        guard
    }

    fn refuse(&self) {
        self.refused.set(self.refused.get() + 1);
        if let Some(f) = &*self.on_refused.borrow() {
            f();
        }
    }

    /// How many paste attempts were refused so far.
    pub fn refused(&self) -> u32 {
        self.refused.get()
    }

    /// Called on every refused attempt (the dialog shows a hint).
    pub fn connect_refused<F: Fn() + 'static>(&self, f: F) {
        *self.on_refused.borrow_mut() = Some(Box::new(f));
    }
}
