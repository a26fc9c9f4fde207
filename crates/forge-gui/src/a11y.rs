//! Accessible properties. gtk4-rs 0.11 exposes `gtk::Accessible` only with
//! its `v4_10` feature, but `gtk_accessible_update_property_value` is GTK
//! 4.0 API, so it is bound here directly for GTK 4.8. Used to give
//! controls built in code their accessible names and to make the progress
//! status line a live region (see `screens/progress`).

use std::os::raw::c_int;

use gtk::glib::translate::ToGlibPtr;
use gtk::glib::{self, prelude::*};
use gtk::prelude::*;

extern "C" {
    fn gtk_accessible_update_property_value(
        accessible: *mut gtk::ffi::GtkAccessible,
        n_properties: c_int,
        properties: *mut gtk::ffi::GtkAccessibleProperty,
        values: *const glib::gobject_ffi::GValue,
    );
    fn gtk_accessible_reset_property(
        accessible: *mut gtk::ffi::GtkAccessible,
        property: gtk::ffi::GtkAccessibleProperty,
    );
}

fn update(widget: &impl IsA<gtk::Widget>, prop: gtk::ffi::GtkAccessibleProperty, text: &str) {
    let value = text.to_value();
    let mut props = [prop];
    let w: &gtk::Widget = widget.as_ref();
    let ptr: *mut gtk::ffi::GtkWidget = w.to_glib_none().0;
    // SAFETY: every GtkWidget implements GtkAccessible; one property, one
    // initialized string GValue, both alive for the call.
    unsafe {
        gtk_accessible_update_property_value(
            ptr as *mut gtk::ffi::GtkAccessible,
            1,
            props.as_mut_ptr(),
            value.to_glib_none().0,
        );
    }
}

/// Sets the accessible name (what a screen reader says for the control).
pub fn set_label(widget: &impl IsA<gtk::Widget>, text: &str) {
    update(widget, gtk::ffi::GTK_ACCESSIBLE_PROPERTY_LABEL, text);
}

/// Sets the accessible description (read after the name).
pub fn set_description(widget: &impl IsA<gtk::Widget>, text: &str) {
    update(widget, gtk::ffi::GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text);
}

/// A decorative icon, hidden from screen readers.
pub fn presentation_icon(name: &str) -> gtk::Image {
    glib::Object::builder::<gtk::Image>()
        .property("icon-name", name)
        .property("accessible-role", gtk::AccessibleRole::Presentation)
        .build()
}

/// "_Erase Disk" -> "Erase Disk" ("__" stays a literal "_").
pub fn strip_mnemonic(label: &str) -> String {
    let mut out = String::new();
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '_' {
            if chars.peek() == Some(&'_') {
                out.push('_');
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Gives a button with a mnemonic label a clean accessible name. GTK 4.8
/// stores the raw label ("_Next") as the button's accessible label and adds
/// the label child's text, so a screen reader says "_Next Next"; resetting
/// the property leaves the name to the child's text ("Next"). Call again
/// after changing the label.
pub fn name_button(button: &gtk::Button) {
    if button.label().is_some() {
        let w: &gtk::Widget = button.upcast_ref();
        let ptr: *mut gtk::ffi::GtkWidget = w.to_glib_none().0;
        // SAFETY: a GtkWidget is a GtkAccessible; resetting one property.
        unsafe {
            gtk_accessible_reset_property(
                ptr as *mut gtk::ffi::GtkAccessible,
                gtk::ffi::GTK_ACCESSIBLE_PROPERTY_LABEL,
            );
        }
    }
}

/// Names the controls under `root` that GTK 4.8 leaves badly named:
/// mnemonic buttons and expanders, a drop-down's inner toggle button, and
/// libadwaita's password "peek" button.
pub fn name_controls(root: &impl IsA<gtk::Widget>) {
    let mut stack = vec![root.as_ref().clone()];
    while let Some(w) = stack.pop() {
        let mut child = w.first_child();
        while let Some(c) = child {
            stack.push(c.clone());
            child = c.next_sibling();
        }
        if let Some(e) = w.downcast_ref::<gtk::Expander>() {
            if let Some(l) = e.label() {
                set_label(e, &strip_mnemonic(&l));
            }
        } else if let Some(t) = w.downcast_ref::<gtk::ToggleButton>() {
            if t.parent().is_some_and(|p| p.is::<gtk::DropDown>()) {
                set_label(t, &forge_proto::i18n::tr("Open the list"));
            }
        } else if let Some(b) = w.downcast_ref::<gtk::Button>() {
            if b.label().is_some() {
                name_button(b);
            } else if b.ancestor(adw::PasswordEntryRow::static_type()).is_some() {
                set_label(b, &forge_proto::i18n::tr("Show or hide the password"));
            }
        }
    }
}
