//! The live system's lists that validation checks against: supported
//! locales (`/usr/share/i18n/SUPPORTED`), keyboard layouts and variants
//! (xkeyboard-config's `evdev.xml`), and IANA time zones (tzdata).
//! Frontends use the same lists to offer choices.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where the system lists are read from. Tests point these at fixtures.
#[derive(Debug, Clone)]
pub struct CatalogPaths {
    pub supported_locales: PathBuf,
    pub xkb_rules: PathBuf,
    pub zoneinfo: PathBuf,
}

impl Default for CatalogPaths {
    fn default() -> Self {
        CatalogPaths {
            supported_locales: PathBuf::from("/usr/share/i18n/SUPPORTED"),
            xkb_rules: PathBuf::from("/usr/share/X11/xkb/rules/evdev.xml"),
            zoneinfo: PathBuf::from("/usr/share/zoneinfo"),
        }
    }
}

/// One keyboard layout with its human description and variants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutInfo {
    pub description: String,
    /// variant name -> description
    pub variants: BTreeMap<String, String>,
}

/// The lists validation checks against.
#[derive(Debug, Clone, Default)]
pub struct SystemCatalog {
    /// e.g. `en_US.UTF-8`
    pub locales: BTreeSet<String>,
    /// layout name -> info
    pub layouts: BTreeMap<String, LayoutInfo>,
    /// e.g. `Europe/Berlin`
    pub timezones: BTreeSet<String>,
}

impl SystemCatalog {
    /// Loads the lists from the live system's default locations.
    pub fn load() -> std::io::Result<SystemCatalog> {
        SystemCatalog::load_from(&CatalogPaths::default())
    }

    /// Loads the lists from `paths`. A list that cannot be read is an error
    /// naming its file.
    pub fn load_from(paths: &CatalogPaths) -> std::io::Result<SystemCatalog> {
        Ok(SystemCatalog {
            locales: read_locales(&paths.supported_locales)?,
            layouts: read_layouts(&paths.xkb_rules)?,
            timezones: read_timezones(&paths.zoneinfo)?,
        })
    }
}

fn named_err(path: &Path, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{}: {e}", path.display()))
}

fn read_locales(path: &Path) -> std::io::Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| named_err(path, e))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

fn read_layouts(path: &Path) -> std::io::Result<BTreeMap<String, LayoutInfo>> {
    let text = std::fs::read_to_string(path).map_err(|e| named_err(path, e))?;
    // evdev.xml carries a DOCTYPE line; roxmltree refuses DTDs unless told.
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc =
        roxmltree::Document::parse_with_options(&text, options).map_err(|e| named_err(path, e))?;
    let mut out = BTreeMap::new();
    for layout in doc.descendants().filter(|n| n.has_tag_name("layout")) {
        let Some(ci) = child(layout, "configItem") else {
            continue;
        };
        let name = text_of(child(ci, "name"));
        if name.is_empty() {
            continue;
        }
        let mut info = LayoutInfo {
            description: text_of(child(ci, "description")),
            variants: BTreeMap::new(),
        };
        if let Some(vl) = child(layout, "variantList") {
            for v in vl.children().filter(|n| n.has_tag_name("variant")) {
                if let Some(vci) = child(v, "configItem") {
                    let vname = text_of(child(vci, "name"));
                    if !vname.is_empty() {
                        info.variants
                            .insert(vname, text_of(child(vci, "description")));
                    }
                }
            }
        }
        out.insert(name, info);
    }
    Ok(out)
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, tag: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

fn text_of(n: Option<roxmltree::Node>) -> String {
    n.and_then(|n| n.text())
        .map(str::to_string)
        .unwrap_or_default()
}

fn read_timezones(zoneinfo: &Path) -> std::io::Result<BTreeSet<String>> {
    // tzdata.zi lists every zone ("Z name ...") and link ("L target name").
    let zi = zoneinfo.join("tzdata.zi");
    let text = std::fs::read_to_string(&zi).map_err(|e| named_err(&zi, e))?;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("Z") => {
                if let Some(n) = f.next() {
                    out.insert(n.to_string());
                }
            }
            Some("L") => {
                if let Some(n) = f.nth(1) {
                    out.insert(n.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The one skip of every FORGE test (strict mode: `FORGE_TEST_STRICT=1`).
#[cfg(test)]
#[path = "../../../tests/harness/skip.rs"]
mod skip;

#[cfg(test)]
mod tests {
    use super::*;

    /// The live system's lists load (Debian's evdev.xml has a DOCTYPE).
    #[test]
    fn loads_the_live_system_lists() {
        let paths = CatalogPaths::default();
        if !paths.xkb_rules.exists() || !paths.supported_locales.exists() {
            skip::skip("xkb-data or locales not installed");
            return;
        }
        let c = SystemCatalog::load().expect("system catalog loads");
        assert!(c.layouts.contains_key("us"), "us layout present");
        assert!(c.layouts["de"].variants.contains_key("nodeadkeys"));
        assert!(c.locales.contains("en_US.UTF-8"));
        assert!(c.timezones.contains("Europe/Berlin"));
    }
}
