//! The few input widgets the screens share: a one-line text field (plain or
//! hidden), a list with a search field, and the drawing helpers for check
//! boxes, buttons and wrapped text.

pub mod draw;
pub mod search_list;
pub mod text_field;

pub use search_list::SearchList;
pub use text_field::TextField;
