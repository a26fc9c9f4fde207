//! `.PKGINFO`: the pacman-style `key = value` metadata at the root of every
//! `.igos.tar.gz` archive (format in docs/package-format.md).

use std::path::Path;

use crate::PayloadError;

/// The package groups, in install order. A package's `tier` is one of these.
pub const TIERS: [&str; 6] = ["toolchain", "core", "base", "desktop", "extra", "ai"];

/// Largest `.PKGINFO` / `.INSTALL` accepted (bytes).
pub const MAX_META_BYTES: u64 = 1 << 20;

/// The parsed `.PKGINFO` of one archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgInfo {
    pub name: String,
    pub version: String,
    pub tier: String,
    /// Dependency package names (version constraints stripped), sorted, unique.
    pub depends: Vec<String>,
    /// systemd units to enable, sorted, unique.
    pub services: Vec<String>,
    /// Installed size in bytes (`size`).
    pub installed_size: u64,
}

/// True when `name` is a valid package name: `[a-z0-9@._+-]`, 1..=128
/// characters, not starting with `-` or `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['-', '.'])
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"@._+-".contains(&b))
}

/// True when `v` is a valid version: `[A-Za-z0-9._+:~-]`, 1..=128 characters.
pub fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+:~-".contains(&b))
}

fn valid_unit(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 255
        && !u.starts_with('.')
        && u.contains('.')
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._:-\\".contains(&b))
}

/// The package name of a `depend` value: `foo>=1.2` -> `foo`.
pub fn dependency_name(dep: &str) -> &str {
    match dep.find(['<', '>', '=']) {
        Some(i) => &dep[..i],
        None => dep,
    }
}

/// Parses `.PKGINFO` text. `archive` is only used to name the file in errors.
pub fn parse(text: &[u8], archive: &Path) -> Result<PkgInfo, PayloadError> {
    let err = |field: Option<&str>, reason: String| PayloadError::PkgInfo {
        path: archive.to_path_buf(),
        field: field.map(str::to_string),
        reason,
    };
    let text = std::str::from_utf8(text).map_err(|_| err(None, "not UTF-8".into()))?;
    let (mut name, mut version, mut tier, mut size) = (None, None, None, None);
    let (mut depends, mut services) = (Vec::new(), Vec::new());
    for (i, raw) in text.lines().enumerate() {
        let line = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(p) => &raw[..p],
            None => raw,
        }
        .trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(err(None, format!("line {}: expected `key = value`", i + 1)));
        };
        let (k, v) = (k.trim(), v.trim());
        let once = |slot: &mut Option<String>, ok: bool| {
            if slot.is_some() {
                return Err(err(Some(k), format!("line {}: given twice", i + 1)));
            }
            if !ok {
                return Err(err(Some(k), format!("line {}: invalid value {v:?}", i + 1)));
            }
            *slot = Some(v.to_string());
            Ok(())
        };
        match k {
            "pkgname" => once(&mut name, valid_name(v))?,
            "pkgver" => once(&mut version, valid_version(v))?,
            "tier" => once(&mut tier, TIERS.contains(&v))?,
            "size" => once(&mut size, v.parse::<u64>().is_ok())?,
            "depend" => {
                let n = dependency_name(v);
                if !valid_name(n) {
                    return Err(err(Some(k), format!("line {}: invalid value {v:?}", i + 1)));
                }
                depends.push(n.to_string());
            }
            "service" => {
                if !valid_unit(v) {
                    return Err(err(Some(k), format!("line {}: invalid value {v:?}", i + 1)));
                }
                services.push(v.to_string());
            }
            _ => {} // other pacman keys (pkgdesc, url, arch, license, ...) are informational
        }
    }
    let need = |slot: Option<String>, f: &str| slot.ok_or_else(|| err(Some(f), "missing".into()));
    let name = need(name, "pkgname")?;
    let version = need(version, "pkgver")?;
    let tier = need(tier, "tier")?;
    let installed_size = need(size, "size")?
        .parse()
        .map_err(|_| err(Some("size"), "not a number".into()))?;
    depends.sort();
    depends.dedup();
    services.sort();
    services.dedup();
    if depends.contains(&name) {
        return Err(err(Some("depend"), "package depends on itself".into()));
    }
    Ok(PkgInfo {
        name,
        version,
        tier,
        depends,
        services,
        installed_size,
    })
}

/// Renders a `.PKGINFO` (used by the test kit and documentation examples).
pub fn render(info: &PkgInfo) -> String {
    let mut s = format!(
        "pkgname = {}\npkgver = {}\ntier = {}\n",
        info.name, info.version, info.tier
    );
    for d in &info.depends {
        s.push_str(&format!("depend = {d}\n"));
    }
    for u in &info.services {
        s.push_str(&format!("service = {u}\n"));
    }
    s.push_str(&format!("size = {}\n", info.installed_size));
    s
}
