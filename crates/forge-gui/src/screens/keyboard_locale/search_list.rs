//! A searchable list of (identifier, display text) items on a `GtkListView`:
//! a `GtkSearchEntry` filters by either, selection reports the identifier.
//! Used for languages and time zones (hundreds of items, so a recycling
//! list view rather than a list box).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use gtk::prelude::*;

/// Extra text shown after an item (e.g. the local time of a zone).
pub type Suffix = Rc<dyn Fn(&str) -> String>;

#[derive(Clone)]
pub struct SearchList {
    pub selection: gtk::SingleSelection,
    list: gtk::ListView,
    display: Rc<HashMap<String, String>>,
}

impl SearchList {
    pub fn new(
        list: &gtk::ListView,
        search: &gtk::SearchEntry,
        items: Vec<(String, String)>,
        suffix: Option<Suffix>,
    ) -> SearchList {
        let ids: Vec<&str> = items.iter().map(|(i, _)| i.as_str()).collect();
        let model = gtk::StringList::new(&ids);
        let display: Rc<HashMap<String, String>> = Rc::new(items.into_iter().collect());
        let query = Rc::new(RefCell::new(String::new()));
        let filter = {
            let query = query.clone();
            let display = display.clone();
            gtk::CustomFilter::new(move |obj| {
                let q = query.borrow();
                if q.is_empty() {
                    return true;
                }
                let Some(s) = obj.downcast_ref::<gtk::StringObject>() else {
                    return false;
                };
                let id = s.string().to_lowercase();
                let shown = display
                    .get(s.string().as_str())
                    .map(|d| d.to_lowercase())
                    .unwrap_or_default();
                id.contains(q.as_str()) || shown.contains(q.as_str())
            })
        };
        let filtered = gtk::FilterListModel::new(Some(model), Some(filter.clone()));
        let selection = gtk::SingleSelection::new(Some(filtered));
        selection.set_autoselect(false);
        selection.set_can_unselect(true);
        let factory = gtk::SignalListItemFactory::new();
        factory.connect_setup(|_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let label = gtk::Label::builder().xalign(0.0).build();
            item.set_child(Some(&label));
        });
        {
            let display = display.clone();
            factory.connect_bind(move |_, item| {
                let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                    return;
                };
                let (Some(obj), Some(label)) = (
                    item.item().and_downcast::<gtk::StringObject>(),
                    item.child().and_downcast::<gtk::Label>(),
                ) else {
                    return;
                };
                let id = obj.string();
                let mut text = display
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_else(|| id.to_string());
                if let Some(f) = &suffix {
                    let extra = f(&id);
                    if !extra.is_empty() {
                        text = format!("{text}  ·  {extra}");
                    }
                }
                label.set_text(&text);
            });
        }
        list.set_factory(Some(&factory));
        list.set_model(Some(&selection));
        search.connect_search_changed(move |e| {
            *query.borrow_mut() = e.text().trim().to_lowercase();
            filter.changed(gtk::FilterChange::Different);
        });
        SearchList {
            selection,
            list: list.clone(),
            display,
        }
    }

    /// Display text of an identifier.
    pub fn display(&self, id: &str) -> String {
        self.display
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The selected identifier, if any.
    pub fn selected(&self) -> Option<String> {
        self.selection
            .selected_item()
            .and_downcast::<gtk::StringObject>()
            .map(|s| s.string().to_string())
    }

    /// Selects `id` (if visible under the current filter) and scrolls to it.
    pub fn select(&self, id: &str) -> bool {
        let n = self.selection.n_items();
        for i in 0..n {
            let is = self
                .selection
                .item(i)
                .and_downcast::<gtk::StringObject>()
                .map(|s| s.string() == id)
                .unwrap_or(false);
            if is {
                if self.selection.selected() != i {
                    self.selection.set_selected(i);
                }
                let _ = self
                    .list
                    .activate_action("list.scroll-to-item", Some(&i.to_variant()));
                return true;
            }
        }
        false
    }

    /// Calls `f` with the identifier when the person selects an item.
    pub fn connect_selected<F: Fn(String) + 'static>(&self, f: F) {
        let sel = self.selection.clone();
        self.selection.connect_selection_changed(move |_, _, _| {
            if let Some(s) = sel.selected_item().and_downcast::<gtk::StringObject>() {
                f(s.string().to_string());
            }
        });
    }

    /// Number of items under the current filter.
    pub fn visible_count(&self) -> u32 {
        self.selection.n_items()
    }
}
