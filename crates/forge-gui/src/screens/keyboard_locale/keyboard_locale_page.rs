//! Language, keyboard and time zone: a searchable language list, layout and
//! variant (from xkeyboard-config) with a field to try typing, and a time
//! zone search over the IANA zones showing the local time there.
//! (Over 400 lines only by the test accessors behind the `autopilot`
//! feature at the end.)

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use forge_proto::i18n::{tr, trf};

use super::search_list::{SearchList, Suffix};
use crate::screens::problem_label::show_problems;
use crate::state::{ForgeState, Step};

use crate::screens::{ForgeStep, ForgeStepExt};

mod imp {
    use super::*;
    use crate::screens::step::ForgeStepImpl;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/keyboard_locale/keyboard_locale_page.ui")]
    #[properties(wrapper_type = super::KeyboardLocalePage)]
    pub struct KeyboardLocalePage {
        #[property(get, override_interface = ForgeStep)]
        pub complete: Cell<bool>,
        #[template_child]
        pub locale_search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub locale_list: TemplateChild<gtk::ListView>,
        #[template_child]
        pub locale_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub layout_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub layout_dropdown: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub variant_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub variant_dropdown: TemplateChild<gtk::DropDown>,
        #[template_child]
        pub try_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub keyboard_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub tz_search: TemplateChild<gtk::SearchEntry>,
        #[template_child]
        pub tz_list: TemplateChild<gtk::ListView>,
        #[template_child]
        pub tz_time: TemplateChild<gtk::Label>,
        #[template_child]
        pub tz_problem: TemplateChild<gtk::Label>,
        pub state: OnceCell<ForgeState>,
        pub locales: OnceCell<SearchList>,
        pub zones: OnceCell<SearchList>,
        pub layout_names: RefCell<Vec<String>>,
        pub variant_names: RefCell<Vec<String>>,
        pub updating: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for KeyboardLocalePage {
        const NAME: &'static str = "ForgeKeyboardLocalePage";
        type Type = super::KeyboardLocalePage;
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
    impl ObjectImpl for KeyboardLocalePage {}
    impl WidgetImpl for KeyboardLocalePage {}
    impl BinImpl for KeyboardLocalePage {}
    impl ForgeStepImpl for KeyboardLocalePage {}
}

glib::wrapper! {
    pub struct KeyboardLocalePage(ObjectSubclass<imp::KeyboardLocalePage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, ForgeStep;
}

/// "14:05, Friday" in `zone`, or empty if GLib does not know it.
pub fn local_time_in(zone: &str) -> String {
    let Some(tz) = Some(glib::TimeZone::new(Some(zone))) else {
        return String::new();
    };
    glib::DateTime::now(&tz)
        .and_then(|t| t.format("%H:%M, %A"))
        .map(|s| s.to_string())
        .unwrap_or_default()
}

impl KeyboardLocalePage {
    pub fn new(state: &ForgeState) -> Self {
        let p: KeyboardLocalePage = glib::Object::new();
        let _ = p.imp().state.set(state.clone());
        p.build_lists(state);
        p.sync_from_state();
        // Scrolling to the chosen items needs the lists laid out.
        p.connect_map(|p| {
            glib::idle_add_local_once(glib::clone!(
                #[weak]
                p,
                move || p.sync_from_state()
            ));
        });
        state.connect_changed(glib::clone!(
            #[weak]
            p,
            move |_| {
                p.refresh();
            }
        ));
        glib::timeout_add_seconds_local(
            30,
            glib::clone!(
                #[weak]
                p,
                #[upgrade_or]
                glib::ControlFlow::Break,
                move || {
                    p.update_time();
                    glib::ControlFlow::Continue
                }
            ),
        );
        p.refresh();
        p
    }

    fn state(&self) -> ForgeState {
        self.imp().state.get().cloned().unwrap_or_default()
    }

    fn build_lists(&self, state: &ForgeState) {
        let imp = self.imp();
        let catalog = state.catalog();
        let names = state.lang_names();
        let mut locales: Vec<(String, String)> = catalog
            .locales
            .iter()
            .filter(|l| l.ends_with(".UTF-8") || l.ends_with(".utf8"))
            .map(|l| (l.clone(), format!("{} — {}", names.locale_name(l), l)))
            .collect();
        locales.sort_by_key(|a| a.1.to_lowercase());
        let list = SearchList::new(&imp.locale_list, &imp.locale_search, locales, None);
        list.connect_selected(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |id| {
                if !p.imp().updating.get() {
                    p.state().update(|c| c.locale = id);
                }
            }
        ));
        let _ = imp.locales.set(list);

        let zones: Vec<(String, String)> = catalog
            .timezones
            .iter()
            .filter(|z| z.contains('/') || z.as_str() == "UTC")
            .filter(|z| !z.starts_with("Etc/") && !z.starts_with("posix/"))
            .map(|z| (z.clone(), z.replace('_', " ")))
            .collect();
        let suffix: Suffix = Rc::new(|z: &str| local_time_in(z));
        let zl = SearchList::new(&imp.tz_list, &imp.tz_search, zones, Some(suffix));
        zl.connect_selected(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |id| {
                if !p.imp().updating.get() {
                    p.state().update(|c| c.timezone = id);
                }
            }
        ));
        let _ = imp.zones.set(zl);

        let mut layouts: Vec<(String, String)> = catalog
            .layouts
            .iter()
            .map(|(n, i)| {
                let d = if i.description.is_empty() {
                    n.clone()
                } else {
                    gettextrs::dgettext("xkeyboard-config", i.description.as_str())
                };
                (n.clone(), d)
            })
            .collect();
        layouts.sort_by_key(|a| a.1.to_lowercase());
        let descs: Vec<&str> = layouts.iter().map(|(_, d)| d.as_str()).collect();
        imp.layout_dropdown
            .set_model(Some(&gtk::StringList::new(&descs)));
        imp.layout_dropdown
            .set_expression(Some(gtk::PropertyExpression::new(
                gtk::StringObject::static_type(),
                gtk::Expression::NONE,
                "string",
            )));
        imp.variant_dropdown
            .set_expression(Some(gtk::PropertyExpression::new(
                gtk::StringObject::static_type(),
                gtk::Expression::NONE,
                "string",
            )));
        *imp.layout_names.borrow_mut() = layouts.into_iter().map(|(n, _)| n).collect();
        self.on_name_selected(
            &imp.layout_dropdown,
            |imp| &imp.layout_names,
            |p, name| {
                p.state().update(|c| {
                    c.layout = name;
                    c.variant.clear();
                });
                p.sync_variants();
                p.apply_session_keyboard();
            },
        );
        self.on_name_selected(
            &imp.variant_dropdown,
            |imp| &imp.variant_names,
            |p, name| {
                p.state().update(|c| c.variant = name);
                p.apply_session_keyboard();
            },
        );
    }

    /// Fills the variant list for the chosen layout ("Default" first).
    /// Calls `f` with the name behind the item a person selects in
    /// `dropdown` (`names` picks the list of names the dropdown shows), but
    /// not while the page itself is filling the dropdowns.
    fn on_name_selected(
        &self,
        dropdown: &gtk::DropDown,
        names: fn(&imp::KeyboardLocalePage) -> &RefCell<Vec<String>>,
        f: impl Fn(&Self, String) + 'static,
    ) {
        dropdown.connect_selected_notify(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |dd| {
                if p.imp().updating.get() {
                    return;
                }
                let name = names(p.imp()).borrow().get(dd.selected() as usize).cloned();
                if let Some(name) = name {
                    f(&p, name);
                }
            }
        ));
    }

    fn sync_variants(&self) {
        let imp = self.imp();
        let state = self.state();
        let catalog = state.catalog();
        let (layout, variant) = {
            let c = state.choices();
            (c.layout.clone(), c.variant.clone())
        };
        let mut names = vec![String::new()];
        let mut descs = vec![tr("Default")];
        if let Some(info) = catalog.layouts.get(&layout) {
            for (n, d) in &info.variants {
                names.push(n.clone());
                descs.push(if d.is_empty() {
                    n.clone()
                } else {
                    gettextrs::dgettext("xkeyboard-config", d.as_str())
                });
            }
        }
        let refs: Vec<&str> = descs.iter().map(String::as_str).collect();
        imp.updating.set(true);
        imp.variant_dropdown
            .set_model(Some(&gtk::StringList::new(&refs)));
        let pos = names.iter().position(|n| *n == variant).unwrap_or(0);
        imp.variant_dropdown.set_selected(pos as u32);
        imp.updating.set(false);
        *imp.variant_names.borrow_mut() = names;
    }

    /// Makes the choices visible in the widgets (on build, and after Back).
    pub fn sync_from_state(&self) {
        let imp = self.imp();
        let state = self.state();
        let (locale, layout, tz) = {
            let c = state.choices();
            (c.locale.clone(), c.layout.clone(), c.timezone.clone())
        };
        imp.updating.set(true);
        if let Some(l) = imp.locales.get() {
            l.select(&locale);
        }
        if let Some(z) = imp.zones.get() {
            z.select(&tz);
        }
        if let Some(pos) = imp.layout_names.borrow().iter().position(|n| *n == layout) {
            imp.layout_dropdown.set_selected(pos as u32);
        }
        imp.updating.set(false);
        self.sync_variants();
    }

    /// On GNOME, makes the session use the chosen layout so the test field
    /// types with it (as GNOME Initial Setup does). Elsewhere the test
    /// field uses the session's current layout.
    fn apply_session_keyboard(&self) {
        let Some(src) = gio::SettingsSchemaSource::default() else {
            return;
        };
        if src
            .lookup("org.gnome.desktop.input-sources", true)
            .is_none()
        {
            return;
        }
        let (layout, variant) = {
            let s = self.state();
            let c = s.choices();
            (c.layout.clone(), c.variant.clone())
        };
        let id = if variant.is_empty() {
            layout
        } else {
            format!("{layout}+{variant}")
        };
        let settings = gio::Settings::new("org.gnome.desktop.input-sources");
        let v = vec![("xkb".to_string(), id)].to_variant();
        if let Err(e) = settings.set_value("sources", &v) {
            tracing::info!("cannot set the session keyboard: {e}");
        }
    }

    fn update_time(&self) {
        let tz = self.state().choices().timezone.clone();
        let t = local_time_in(&tz);
        let text = if t.is_empty() {
            String::new()
        } else {
            trf(
                "Local time in {zone}: {time}",
                &[("zone", &tz.replace('_', " ")), ("time", &t)],
            )
        };
        self.imp().tz_time.set_text(&text);
    }

    /// Re-checks validity and shows the problems of this screen's fields.
    pub fn refresh(&self) {
        let imp = self.imp();
        let state = self.state();
        let problems = state.step_problems(Step::KeyboardLocale);
        let a = show_problems(&imp.locale_problem, None, &problems, "locale");
        let b = show_problems(
            &imp.keyboard_problem,
            Some(imp.layout_row.upcast_ref()),
            &problems,
            "keyboard",
        );
        let c = show_problems(&imp.tz_problem, None, &problems, "timezone");
        self.update_time();
        let complete = !(a || b || c);
        if complete != imp.complete.get() {
            imp.complete.set(complete);
            self.notify_complete();
        }
    }
}

/// Driving the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl KeyboardLocalePage {
    pub fn locale_list(&self) -> Option<SearchList> {
        self.imp().locales.get().cloned()
    }

    pub fn timezone_list(&self) -> Option<SearchList> {
        self.imp().zones.get().cloned()
    }

    pub fn locale_search(&self) -> gtk::SearchEntry {
        self.imp().locale_search.get()
    }

    pub fn timezone_search(&self) -> gtk::SearchEntry {
        self.imp().tz_search.get()
    }

    /// Selects a layout by name as a person would in the drop-down.
    pub fn choose_layout(&self, name: &str) -> bool {
        let pos = self
            .imp()
            .layout_names
            .borrow()
            .iter()
            .position(|n| n == name);
        match pos {
            Some(p) => {
                self.imp().layout_dropdown.set_selected(p as u32);
                true
            }
            None => false,
        }
    }

    /// Selects a variant of the current layout by name.
    pub fn choose_variant(&self, name: &str) -> bool {
        let pos = self
            .imp()
            .variant_names
            .borrow()
            .iter()
            .position(|n| n == name);
        match pos {
            Some(p) => {
                self.imp().variant_dropdown.set_selected(p as u32);
                true
            }
            None => false,
        }
    }

    pub fn time_label(&self) -> String {
        self.imp().tz_time.text().to_string()
    }

    pub fn problem_texts(&self) -> Vec<String> {
        let imp = self.imp();
        [&imp.locale_problem, &imp.keyboard_problem, &imp.tz_problem]
            .iter()
            .filter(|l| l.is_visible())
            .map(|l| l.text().to_string())
            .collect()
    }
}
