//! Software: the package groups from `ListPackageGroups` with their package
//! count, download and installed sizes; required groups locked on; the
//! total, and a problem when the chosen disk cannot hold it. The list is
//! the state's `groups` (D-Bus in the app, injected in tests).

use std::cell::{Cell, OnceCell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use forge_proto::i18n::tr;

use crate::screens::problem_label::show_problems;
use crate::state::{ForgeState, Step};
use crate::util;

use crate::screens::{ForgeStep, ForgeStepExt};

mod imp {
    use super::*;
    use crate::screens::step::ForgeStepImpl;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/packages/packages_page.ui")]
    #[properties(wrapper_type = super::PackagesPage)]
    pub struct PackagesPage {
        #[property(get, override_interface = ForgeStep)]
        pub complete: Cell<bool>,
        #[template_child]
        pub group_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub empty_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub total_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub groups_problem: TemplateChild<gtk::Label>,
        pub state: OnceCell<ForgeState>,
        /// (group name, switch) per row.
        pub switches: RefCell<Vec<(String, gtk::Switch)>>,
        pub updating: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PackagesPage {
        const NAME: &'static str = "ForgePackagesPage";
        type Type = super::PackagesPage;
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
    impl ObjectImpl for PackagesPage {}
    impl WidgetImpl for PackagesPage {}
    impl BinImpl for PackagesPage {}
    impl ForgeStepImpl for PackagesPage {}
}

glib::wrapper! {
    pub struct PackagesPage(ObjectSubclass<imp::PackagesPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, ForgeStep;
}

impl PackagesPage {
    pub fn new(state: &ForgeState) -> Self {
        let p: PackagesPage = glib::Object::new();
        let _ = p.imp().state.set(state.clone());
        p.rebuild();
        state.connect_groups_changed(glib::clone!(
            #[weak]
            p,
            move |_| {
                p.rebuild();
            }
        ));
        state.connect_changed(glib::clone!(
            #[weak]
            p,
            move |_| {
                p.refresh();
            }
        ));
        p.refresh();
        p
    }

    fn state(&self) -> ForgeState {
        self.imp().state.get().cloned().unwrap_or_default()
    }

    /// Rebuilds the rows from the state's group list.
    pub fn rebuild(&self) {
        let imp = self.imp();
        while let Some(c) = imp.group_list.first_child() {
            imp.group_list.remove(&c);
        }
        imp.switches.borrow_mut().clear();
        let state = self.state();
        let groups = state.groups();
        let selected = state.choices().groups.clone();
        imp.empty_label.set_visible(groups.is_empty());
        imp.group_list.set_visible(!groups.is_empty());
        for g in &groups {
            let title = util::group_label(&g.name);
            let mut subtitle = String::new();
            if !g.description.is_empty() {
                subtitle.push_str(&g.description);
                subtitle.push('\n');
            }
            subtitle.push_str(&util::fill(
                &forge_proto::i18n::ngettext(
                    "{count} package · {download} download · {installed} on disk",
                    "{count} packages · {download} download · {installed} on disk",
                    u32::try_from(u64::from(g.packages)).unwrap_or(u32::MAX),
                ),
                u64::from(g.packages),
                &[
                    ("download", &util::format_size(g.download_size)),
                    ("installed", &util::format_size(g.installed_size)),
                ],
            ));
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(&title).as_str())
                .subtitle(glib::markup_escape_text(&subtitle).as_str())
                .subtitle_lines(3)
                .build();
            let sw = gtk::Switch::builder().valign(gtk::Align::Center).build();
            crate::a11y::set_label(&sw, &title);
            sw.set_active(g.required || selected.contains(&g.name));
            if g.required {
                sw.set_sensitive(false);
                let l = gtk::Label::new(Some(&tr("Required")));
                l.add_css_class("caption");
                l.add_css_class("dim-label");
                l.set_valign(gtk::Align::Center);
                row.add_suffix(&l);
                crate::a11y::set_description(&sw, &tr("Required: always installed"));
            }
            row.add_suffix(&sw);
            row.set_activatable_widget(Some(&sw));
            let name = g.name.clone();
            sw.connect_active_notify(glib::clone!(
                #[weak(rename_to = p)]
                self,
                move |s| {
                    if p.imp().updating.get() {
                        return;
                    }
                    let on = s.is_active();
                    let name = name.clone();
                    p.state().update(|c| {
                        c.groups.retain(|n| *n != name);
                        if on {
                            c.groups.push(name);
                        }
                    });
                }
            ));
            imp.group_list.append(&row);
            imp.switches.borrow_mut().push((g.name.clone(), sw));
        }
    }

    /// Updates the total and re-checks validity.
    pub fn refresh(&self) {
        let imp = self.imp();
        let state = self.state();
        let groups = state.groups();
        let selected = state.choices().groups.clone();
        let chosen: Vec<_> = groups
            .iter()
            .filter(|g| selected.contains(&g.name))
            .collect();
        let download: u64 = chosen.iter().map(|g| g.download_size).sum();
        let installed: u64 = chosen.iter().map(|g| g.installed_size).sum();
        let count: u32 = chosen.iter().map(|g| g.packages).sum();
        imp.total_row.set_subtitle(&util::fill(
            &forge_proto::i18n::ngettext(
                "{count} package · {download} to read from the installation medium · {installed} on disk",
                "{count} packages · {download} to read from the installation medium · {installed} on disk",
                u32::try_from(u64::from(count)).unwrap_or(u32::MAX),
            ),
            u64::from(count),
            &[
                ("download", &util::format_size(download)),
                ("installed", &util::format_size(installed)),
            ],
        ));
        // The model's gating (its "too small" check included); with no
        // groups listed, `empty_label` already says so.
        let mut problems = state.step_problems(Step::Packages);
        if groups.is_empty() {
            problems.clear();
        }
        let bad = show_problems(&imp.groups_problem, None, &problems, "package_groups");
        let complete = !bad && !groups.is_empty();
        if complete != imp.complete.get() {
            imp.complete.set(complete);
            self.notify_complete();
        }
    }
}

/// Driving the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl PackagesPage {
    /// Flips a group's switch as a person would; false when locked/absent.
    pub fn set_group(&self, name: &str, on: bool) -> bool {
        let sw = self
            .imp()
            .switches
            .borrow()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone());
        match sw {
            Some(s) if s.is_sensitive() => {
                s.set_active(on);
                true
            }
            _ => false,
        }
    }

    pub fn group_locked(&self, name: &str) -> bool {
        self.imp()
            .switches
            .borrow()
            .iter()
            .any(|(n, s)| n == name && !s.is_sensitive() && s.is_active())
    }

    pub fn total_text(&self) -> String {
        self.imp()
            .total_row
            .subtitle()
            .unwrap_or_default()
            .to_string()
    }

    pub fn problem_text(&self) -> Option<String> {
        let l = &self.imp().groups_problem;
        l.is_visible().then(|| l.text().to_string())
    }
}
