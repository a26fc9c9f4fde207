//! Human names for locale and time-zone identifiers: `de_DE.UTF-8` becomes
//! "German (Germany)", translated through the iso-codes catalogs when they
//! are installed. Without iso-codes the identifier itself is shown.

use std::collections::HashMap;

/// Language (ISO 639) and territory (ISO 3166) names.
#[derive(Debug, Default)]
pub struct LangNames {
    languages: HashMap<String, String>,
    territories: HashMap<String, String>,
}

fn load(path: &str, list: &str, key: &str, domain: &str) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    if let Some(items) = json.get(list).and_then(|v| v.as_array()) {
        for item in items {
            let code = item.get(key).and_then(|v| v.as_str());
            let name = item
                .get("common_name")
                .or_else(|| item.get("name"))
                .and_then(|v| v.as_str());
            if let (Some(code), Some(name)) = (code, name) {
                let shown = gettextrs::dgettext(domain, name);
                out.insert(code.to_string(), shown);
            }
        }
    }
    out
}

impl LangNames {
    pub fn load() -> LangNames {
        let mut languages = load(
            "/usr/share/iso-codes/json/iso_639-2.json",
            "639-2",
            "alpha_2",
            "iso_639-2",
        );
        // Three-letter languages (e.g. `ast`, `fil`) from 639-3.
        for (k, v) in load(
            "/usr/share/iso-codes/json/iso_639-3.json",
            "639-3",
            "alpha_3",
            "iso_639-3",
        ) {
            languages.entry(k).or_insert(v);
        }
        LangNames {
            languages,
            territories: load(
                "/usr/share/iso-codes/json/iso_3166-1.json",
                "3166-1",
                "alpha_2",
                "iso_3166-1",
            ),
        }
    }

    /// "German (Germany)" for `de_DE.UTF-8`; the identifier when unknown.
    pub fn locale_name(&self, locale: &str) -> String {
        let base = locale.split(['.', '@']).next().unwrap_or(locale);
        let mut parts = base.splitn(2, '_');
        let lang = parts.next().unwrap_or("");
        let terr = parts.next().unwrap_or("");
        match (self.languages.get(lang), self.territories.get(terr)) {
            (Some(l), Some(t)) => format!("{l} ({t})"),
            (Some(l), None) => l.clone(),
            _ => locale.to_string(),
        }
    }
}
