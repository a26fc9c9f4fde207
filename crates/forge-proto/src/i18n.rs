//! Gettext glue shared by every FORGE binary. All user-visible strings go
//! through [`tr`] (or the `gettext` functions re-exported here).

pub use gettextrs::{gettext, ngettext};

/// The gettext domain of every FORGE message catalog.
pub const DOMAIN: &str = "forge";

/// Binds the `forge` text domain to `localedir` (the compiled catalogs) and
/// selects the user's locale from the environment. Call once at start-up.
pub fn init(localedir: &str) {
    let _ = gettextrs::setlocale(gettextrs::LocaleCategory::LcAll, "");
    let _ = gettextrs::bindtextdomain(DOMAIN, localedir);
    let _ = gettextrs::bind_textdomain_codeset(DOMAIN, "UTF-8");
    let _ = gettextrs::textdomain(DOMAIN);
}

/// Translates `msgid` in the `forge` domain.
pub fn tr(msgid: &str) -> String {
    gettextrs::dgettext(DOMAIN, msgid)
}

/// Translates `msgid` and replaces each `{name}` placeholder by its value.
/// Placeholders keep translators free to reorder arguments. Substitution is
/// one pass: a value that itself contains `{name}` is not expanded again.
pub fn trf(msgid: &str, args: &[(&str, &str)]) -> String {
    let template = tr(msgid);
    let mut out = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let key = &after[..close];
            args.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::trf;

    #[test]
    fn trf_substitutes_once() {
        // Called through a local name so xgettext does not take these
        // test strings for messages.
        let f = trf;
        assert_eq!(
            f("{a} and {b} {c}", &[("a", "{b}"), ("b", "x")]),
            "{b} and x {c}"
        );
        assert_eq!(f("{a}{a}", &[("a", "1")]), "11");
        assert_eq!(f("{ {a", &[("a", "1")]), "{ {a");
    }
}
