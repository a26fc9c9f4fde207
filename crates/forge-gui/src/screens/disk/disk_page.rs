//! Disk: the disks from `ListDisks` with model, size and transport;
//! removable and in-use disks marked; disks that cannot take the chosen
//! software refused with the reason; the boot mode detected (overridable
//! under Advanced, with the file system); a plain erase warning.
//! The list is the state's `disks` (filled by D-Bus in the app, injected in
//! tests).

use std::cell::{Cell, OnceCell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use forge_proto::i18n::{tr, trf};
use forge_proto::{BootMode, Filesystem};

use crate::client::ClientError;
use crate::model::DiskInfo;
use crate::screens::problem_label::show_problems;
use crate::state::{ForgeState, Step};
use crate::util;

const BOOT_MODES: [BootMode; 3] = [BootMode::Auto, BootMode::Efi, BootMode::Bios];
const FILESYSTEMS: [Filesystem; 3] = [Filesystem::Ext4, Filesystem::Xfs, Filesystem::Btrfs];

use crate::screens::{ForgeStep, ForgeStepExt};

mod imp {
    use super::*;
    use crate::screens::step::ForgeStepImpl;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/org/intergenos/Forge/screens/disk/disk_page.ui")]
    #[properties(wrapper_type = super::DiskPage)]
    pub struct DiskPage {
        #[property(get, override_interface = ForgeStep)]
        pub complete: Cell<bool>,
        #[template_child]
        pub disk_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub empty_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub error_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub error_details: TemplateChild<gtk::Expander>,
        #[template_child]
        pub error_detail_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub disk_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub boot_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub boot_combo: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub fs_combo: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub boot_problem: TemplateChild<gtk::Label>,
        #[template_child]
        pub advanced_row: TemplateChild<adw::ExpanderRow>,
        pub state: OnceCell<ForgeState>,
        /// (device, radio button, row) of each listed disk.
        pub rows: RefCell<Vec<(String, gtk::CheckButton, adw::ActionRow)>>,
        pub updating: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DiskPage {
        const NAME: &'static str = "ForgeDiskPage";
        type Type = super::DiskPage;
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
    impl ObjectImpl for DiskPage {}
    impl WidgetImpl for DiskPage {}
    impl BinImpl for DiskPage {}
    impl ForgeStepImpl for DiskPage {}
}

glib::wrapper! {
    pub struct DiskPage(ObjectSubclass<imp::DiskPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, ForgeStep;
}

impl DiskPage {
    pub fn new(state: &ForgeState) -> Self {
        let p: DiskPage = glib::Object::new();
        let _ = p.imp().state.set(state.clone());
        p.setup_combos();
        p.rebuild();
        state.connect_disks_changed(glib::clone!(
            #[weak]
            p,
            move |_| {
                p.rebuild();
            }
        ));
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

    fn setup_combos(&self) {
        let imp = self.imp();
        let detected = self.state().detected_boot();
        let boot_labels: Vec<String> = BOOT_MODES
            .iter()
            .map(|m| match m {
                BootMode::Auto => trf(
                    "Automatic ({mode}, detected)",
                    &[("mode", &util::boot_mode_label(detected))],
                ),
                other => util::boot_mode_label(*other),
            })
            .collect();
        let refs: Vec<&str> = boot_labels.iter().map(String::as_str).collect();
        imp.boot_combo.set_model(Some(&gtk::StringList::new(&refs)));
        let fs_labels = [tr("ext4 (recommended)"), tr("XFS"), tr("Btrfs")];
        let refs: Vec<&str> = fs_labels.iter().map(String::as_str).collect();
        imp.fs_combo.set_model(Some(&gtk::StringList::new(&refs)));
        let (boot, fs) = {
            let s = self.state();
            let c = s.choices();
            (c.boot, c.filesystem)
        };
        imp.boot_combo
            .set_selected(BOOT_MODES.iter().position(|b| *b == boot).unwrap_or(0) as u32);
        imp.fs_combo
            .set_selected(FILESYSTEMS.iter().position(|f| *f == fs).unwrap_or(0) as u32);
        imp.boot_combo.connect_selected_notify(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |c| {
                let mode = BOOT_MODES
                    .get(c.selected() as usize)
                    .copied()
                    .unwrap_or_default();
                p.state().update(|ch| ch.boot = mode);
            }
        ));
        imp.fs_combo.connect_selected_notify(glib::clone!(
            #[weak(rename_to = p)]
            self,
            move |c| {
                let fs = FILESYSTEMS
                    .get(c.selected() as usize)
                    .copied()
                    .unwrap_or_default();
                p.state().update(|ch| ch.filesystem = fs);
            }
        ));
    }

    /// Rebuilds the disk rows from the state's disk list.
    pub fn rebuild(&self) {
        let imp = self.imp();
        while let Some(child) = imp.disk_list.first_child() {
            imp.disk_list.remove(&child);
        }
        imp.rows.borrow_mut().clear();
        let state = self.state();
        if let Some(e) = state.disk_error() {
            self.show_load_error(&e);
        }
        let disks = state.disks();
        let chosen = state.choices().disk.clone();
        imp.empty_label
            .set_visible(disks.is_empty() && !imp.error_label.is_visible());
        imp.disk_list.set_visible(!disks.is_empty());
        let mut group: Option<gtk::CheckButton> = None;
        for d in &disks {
            let (row, radio) = self.disk_row(d, state.disk_refusal(d));
            if let Some(g) = &group {
                radio.set_group(Some(g));
            } else {
                group = Some(radio.clone());
            }
            radio.set_active(d.device == chosen);
            let dev = d.device.clone();
            radio.connect_toggled(glib::clone!(
                #[weak(rename_to = p)]
                self,
                move |r| {
                    if r.is_active() && !p.imp().updating.get() {
                        let dev = dev.clone();
                        p.state().update(|c| c.disk = dev);
                    }
                }
            ));
            imp.disk_list.append(&row);
            imp.rows.borrow_mut().push((d.device.clone(), radio, row));
        }
    }

    fn disk_row(
        &self,
        d: &DiskInfo,
        refusal: Option<String>,
    ) -> (adw::ActionRow, gtk::CheckButton) {
        let title = if d.model.trim().is_empty() {
            d.device.clone()
        } else {
            d.model.trim().to_string()
        };
        let transport = if d.transport.is_empty() {
            tr("unknown connection")
        } else {
            d.transport.to_uppercase()
        };
        let mut subtitle = format!(
            "{} · {} · {}",
            util::format_size(d.size),
            transport,
            d.device
        );
        if let Some(why) = &refusal {
            subtitle.push('\n');
            subtitle.push_str(why);
        }
        let row = adw::ActionRow::builder()
            .title(glib::markup_escape_text(&title).as_str())
            .subtitle(glib::markup_escape_text(&subtitle).as_str())
            .subtitle_lines(3)
            .build();
        let radio = gtk::CheckButton::new();
        radio.set_valign(gtk::Align::Center);
        crate::a11y::set_label(
            &radio,
            &trf(
                "{model}, {size}",
                &[("model", &title), ("size", &util::format_size(d.size))],
            ),
        );
        row.add_prefix(&radio);
        row.set_activatable_widget(Some(&radio));
        let icon = if d.removable {
            "media-removable-symbolic"
        } else {
            "drive-harddisk-symbolic"
        };
        let img = crate::a11y::presentation_icon(icon);
        row.add_suffix(&img);
        let mut tags = Vec::new();
        if d.removable {
            tags.push(tr("Removable"));
        }
        if d.in_use {
            tags.push(tr("In use"));
        }
        if d.read_only {
            tags.push(tr("Read-only"));
        }
        for t in tags {
            let l = gtk::Label::new(Some(&t));
            l.add_css_class("caption");
            l.add_css_class("dim-label");
            l.set_valign(gtk::Align::Center);
            row.add_suffix(&l);
        }
        if refusal.is_some() {
            row.set_sensitive(false);
            row.add_css_class("dim-label");
        }
        (row, radio)
    }

    /// Shows why the disks could not be listed (short message + details).
    fn show_load_error(&self, e: &ClientError) {
        let imp = self.imp();
        imp.error_label.set_text(&e.message);
        imp.error_label.set_visible(true);
        imp.error_detail_label.set_text(&e.detail);
        imp.error_details.set_visible(!e.detail.is_empty());
        imp.empty_label.set_visible(false);
    }

    /// Re-checks validity and updates the boot mode line.
    pub fn refresh(&self) {
        let imp = self.imp();
        let state = self.state();
        let detected = state.detected_boot();
        let (boot, disk) = {
            let c = state.choices();
            (c.boot, c.disk.clone())
        };
        let text = match boot {
            BootMode::Auto => trf(
                "{mode} (detected on this computer)",
                &[("mode", &util::boot_mode_label(detected))],
            ),
            m => trf(
                "{mode} (chosen under Advanced)",
                &[("mode", &util::boot_mode_label(m))],
            ),
        };
        imp.boot_row.set_subtitle(&text);
        imp.updating.set(true);
        for (dev, radio, _) in imp.rows.borrow().iter() {
            if *dev == disk && !radio.is_active() {
                radio.set_active(true);
            }
        }
        imp.updating.set(false);
        let problems = state.step_problems(Step::Disk);
        let mut bad = show_problems(&imp.disk_problem, None, &problems, "install_io.disk");
        bad |= show_problems(&imp.boot_problem, None, &problems, "boot");
        let fs_bad = problems.iter().any(|p| p.field == "filesystem");
        let complete = !bad && !fs_bad && !disk.is_empty();
        if complete != imp.complete.get() {
            imp.complete.set(complete);
            self.notify_complete();
        }
    }
}

/// Driving the screen from the UI tests and the autopilot (feature `autopilot`).
#[cfg(feature = "autopilot")]
impl DiskPage {
    /// Clicks the disk's row as a person would; false if it is not
    /// listed or not selectable.
    pub fn choose(&self, device: &str) -> bool {
        let rows = self.imp().rows.borrow().clone();
        for (dev, radio, row) in rows {
            if dev == device {
                if !row.is_sensitive() {
                    return false;
                }
                radio.set_active(true);
                return true;
            }
        }
        false
    }

    /// The subtitle (size, transport, device, refusal reason) of a disk row.
    pub fn row_text(&self, device: &str) -> Option<String> {
        self.imp()
            .rows
            .borrow()
            .iter()
            .find(|(d, _, _)| d == device)
            .map(|(_, _, r)| format!("{}\n{}", r.title(), r.subtitle().unwrap_or_default()))
    }

    pub fn row_selectable(&self, device: &str) -> bool {
        self.imp()
            .rows
            .borrow()
            .iter()
            .any(|(d, _, r)| d == device && r.is_sensitive())
    }

    pub fn boot_text(&self) -> String {
        self.imp()
            .boot_row
            .subtitle()
            .unwrap_or_default()
            .to_string()
    }

    pub fn set_boot_override(&self, mode: BootMode) {
        let pos = BOOT_MODES.iter().position(|b| *b == mode).unwrap_or(0);
        self.imp().boot_combo.set_selected(pos as u32);
    }

    /// Picks the file system in the Advanced combo, as a person would.
    pub fn set_filesystem(&self, fs: Filesystem) {
        let pos = FILESYSTEMS.iter().position(|f| *f == fs).unwrap_or(0);
        self.imp().fs_combo.set_selected(pos as u32);
    }

    /// The devices of the listed disks that can be chosen, in list order.
    pub fn selectable_disks(&self) -> Vec<String> {
        self.imp()
            .rows
            .borrow()
            .iter()
            .filter(|(_, _, r)| r.is_sensitive())
            .map(|(d, _, _)| d.clone())
            .collect()
    }

    pub fn advanced_row(&self) -> adw::ExpanderRow {
        self.imp().advanced_row.get()
    }
}
