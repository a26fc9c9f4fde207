//! Accessible properties. gtk4-rs 0.11 exposes `gtk::Accessible` only with
//! its `v4_10` feature, but `gtk_accessible_update_property_value` is GTK
//! 4.0 API, so it is bound here directly for GTK 4.8. Used to give
//! controls built in code their accessible names and to make the progress
//! status line a live region (see `screens/progress`).

use std::os::raw::c_int;

use gtk::glib::translate::ToGlibPtr;
use gtk::glib::{self, prelude::*};

extern "C" {
    fn gtk_accessible_update_property_value(
        accessible: *mut gtk::ffi::GtkAccessible,
        n_properties: c_int,
        properties: *mut gtk::ffi::GtkAccessibleProperty,
        values: *const glib::gobject_ffi::GValue,
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
