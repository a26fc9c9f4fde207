//! `ForgeStep`: the one protocol between the window (the pager) and every
//! wizard step. A step has a read-only boolean `complete` property (Next
//! is enabled only while it is true) and `enter()`, called each time the
//! step is shown. The window holds its steps as `ForgeStep`s: no property
//! lookups by name, no downcasts.

use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;

mod imp {
    use super::*;
    use std::sync::OnceLock;

    /// The interface's class struct: the `enter` virtual method.
    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct ForgeStepInterface {
        parent: glib::gobject_ffi::GTypeInterface,
        pub(super) enter: fn(&super::ForgeStep),
    }

    // SAFETY: `#[repr(C)]` with the GTypeInterface first, as GObject requires.
    unsafe impl InterfaceStruct for ForgeStepInterface {
        type Type = ForgeStep;
    }

    pub enum ForgeStep {}

    #[glib::object_interface]
    impl ObjectInterface for ForgeStep {
        const NAME: &'static str = "ForgeStep";
        type Prerequisites = (gtk::Widget,);
        type Interface = ForgeStepInterface;

        fn interface_init(iface: &mut Self::Interface) {
            iface.enter = |_| {};
        }

        fn properties() -> &'static [glib::ParamSpec] {
            static PROPS: OnceLock<Vec<glib::ParamSpec>> = OnceLock::new();
            PROPS.get_or_init(|| {
                vec![glib::ParamSpecBoolean::builder("complete")
                    .read_only()
                    .build()]
            })
        }
    }
}

glib::wrapper! {
    /// A wizard step (implemented by every step page).
    pub struct ForgeStep(ObjectInterface<imp::ForgeStep>) @requires gtk::Widget;
}

/// What the window asks of a step.
pub trait ForgeStepExt: IsA<ForgeStep> + 'static {
    /// Whether the step may be left forward.
    fn complete(&self) -> bool {
        self.upcast_ref::<ForgeStep>().property("complete")
    }

    /// The step is being shown (again): bring it up to date.
    fn enter(&self) {
        let step = self.upcast_ref::<ForgeStep>();
        if let Some(iface) = step.interface::<ForgeStep>() {
            (iface.as_ref().enter)(step);
        }
    }

    /// A step tells that its `complete` changed.
    fn notify_complete(&self) {
        self.notify("complete");
    }

    /// Calls `f` whenever `complete` changes.
    fn connect_complete_notify<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_notify_local(Some("complete"), move |s, _| f(s))
    }
}

impl<O: IsA<ForgeStep>> ForgeStepExt for O {}

/// Implemented by each step page's `imp` type (the default `enter` does
/// nothing); the page's `complete` property overrides the interface's
/// (`#[property(get, override_interface = ForgeStep)]`).
pub trait ForgeStepImpl: ObjectImpl + ObjectSubclass<Type: IsA<ForgeStep>> {
    fn enter(&self) {}
}

unsafe impl<T: ForgeStepImpl> IsImplementable<T> for ForgeStep {
    fn interface_init(iface: &mut glib::Interface<Self>) {
        iface.as_mut().enter = |step| {
            if let Some(page) = step.dynamic_cast_ref::<T::Type>() {
                ForgeStepImpl::enter(page.imp());
            }
        };
    }
}
