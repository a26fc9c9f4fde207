//! The `keyboard_locale` screen.

mod keyboard_locale_page;
mod search_list;

pub use keyboard_locale_page::KeyboardLocalePage;
pub use search_list::SearchList;
