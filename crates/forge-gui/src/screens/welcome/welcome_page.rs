//! Welcome: what will happen, in two sentences, and the release being
//! installed. Always complete.

use std::cell::{Cell, OnceCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use crate::state::ForgeState;

use crate::screens::ForgeStep;

mod imp {
    use super::*;
    use crate::screens::step::ForgeStepImpl;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/welcome/welcome_page.ui")]
    #[properties(wrapper_type = super::WelcomePage)]
    pub struct WelcomePage {
        #[property(get, override_interface = ForgeStep)]
        pub complete: Cell<bool>,
        #[template_child]
        pub release_row: TemplateChild<adw::ActionRow>,
        pub state: OnceCell<ForgeState>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for WelcomePage {
        const NAME: &'static str = "ForgeWelcomePage";
        type Type = super::WelcomePage;
        type ParentType = adw::Bin;
        type Interfaces = (ForgeStep,);

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for WelcomePage {}
    impl WidgetImpl for WelcomePage {}
    impl BinImpl for WelcomePage {}
    impl ForgeStepImpl for WelcomePage {}
}

glib::wrapper! {
    pub struct WelcomePage(ObjectSubclass<imp::WelcomePage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, ForgeStep;
}

impl WelcomePage {
    pub fn new(state: &ForgeState) -> Self {
        let p: WelcomePage = glib::Object::new();
        let _ = p.imp().state.set(state.clone());
        p.imp().complete.set(true);
        p.refresh();
        state.connect_changed(glib::clone!(
            #[weak]
            p,
            move |_| {
                p.refresh();
            }
        ));
        p
    }

    fn refresh(&self) {
        if let Some(s) = self.imp().state.get() {
            self.imp().release_row.set_subtitle(&s.release());
        }
    }
}
