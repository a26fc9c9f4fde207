//! The two signed files of a payload: the archive manifest
//! (`<sha256>  packages/<file>` lines) and the gzipped JSON index
//! `InterGenOS.db`. Encoding is deterministic; decoding is strict and capped.
//! The index (format 2) carries its validity window, `created` and
//! `expires` ([`crate::freshness`]); format 1 (without them) is refused.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::freshness::{parse_utc, Validity};
use crate::pkginfo::{valid_name, valid_version, TIERS};
use crate::PayloadError;

/// File name of the archive manifest.
pub const MANIFEST: &str = "intergenos-archive-manifest.txt";
/// File name of the manifest's detached armored signature.
pub const MANIFEST_SIG: &str = "intergenos-archive-manifest.txt.asc";
/// File name of the package index.
pub const INDEX: &str = "InterGenOS.db";
/// File name of the index's detached armored signature.
pub const INDEX_SIG: &str = "InterGenOS.db.sig";
/// Directory of the archives inside a payload.
pub const PACKAGES_DIR: &str = "packages";
/// Archive file name suffix.
pub const ARCHIVE_SUFFIX: &str = ".igos.tar.gz";
/// Largest decompressed index accepted (bytes).
pub const MAX_INDEX_BYTES: u64 = 64 << 20;
/// Largest manifest accepted (bytes).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// The index format written and the only one accepted.
pub const INDEX_FORMAT: u32 = 2;
/// Largest signature file accepted (bytes).
pub const MAX_SIG_BYTES: u64 = 1 << 20;

/// One package of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageEntry {
    pub name: String,
    pub version: String,
    pub tier: String,
    /// Path relative to the payload directory: `packages/<name>-<version>.igos.tar.gz`.
    pub file: String,
    /// Lower-case hex SHA-256 of the archive.
    pub sha256: String,
    /// Archive size in bytes.
    pub size: u64,
    /// Installed size in bytes (the `.PKGINFO` `size`); deploy refuses to write more.
    pub installed_size: u64,
    /// Names of the packages this one needs (sorted).
    pub depends: Vec<String>,
    /// systemd units to enable (sorted).
    pub services: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexDoc {
    format: u32,
    /// When the index was built (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    #[serde(default)]
    created: Option<String>,
    /// When the index stops being valid (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    #[serde(default)]
    expires: Option<String>,
    packages: Vec<PackageEntry>,
}

/// True for a well-formed lower-case hex SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for `packages/<simple name>.igos.tar.gz`.
pub fn valid_archive_path(p: &str) -> bool {
    match p.strip_prefix("packages/") {
        Some(f) => {
            f.len() > ARCHIVE_SUFFIX.len()
                && f.ends_with(ARCHIVE_SUFFIX)
                && !f.starts_with('.')
                && f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"@._+:~-".contains(&b))
        }
        None => false,
    }
}

/// Parses the manifest: `path -> sha256`. Any malformed or duplicated line is an error.
pub fn parse_manifest(bytes: &[u8], path: &Path) -> Result<BTreeMap<String, String>, PayloadError> {
    let err = |line: usize, reason: String| PayloadError::Manifest {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| err(0, "not UTF-8".into()))?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(err(text.lines().count(), "missing final newline".into()));
    }
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some((hash, file)) = line.split_once("  ") else {
            return Err(err(n, "expected `<sha256>  packages/<file>`".into()));
        };
        if !is_sha256_hex(hash) {
            return Err(err(n, format!("invalid SHA-256 {hash:?}")));
        }
        if !valid_archive_path(file) {
            return Err(err(n, format!("invalid archive path {file:?}")));
        }
        if out.insert(file.to_string(), hash.to_string()).is_some() {
            return Err(err(n, format!("duplicate entry for {file}")));
        }
    }
    if out.is_empty() {
        return Err(err(0, "no entries".into()));
    }
    Ok(out)
}

/// Renders the manifest (sorted by path).
pub fn render_manifest(entries: &[PackageEntry]) -> Vec<u8> {
    let mut lines: Vec<_> = entries
        .iter()
        .map(|e| format!("{}  {}\n", e.sha256, e.file))
        .collect();
    lines.sort();
    lines.concat().into_bytes()
}

/// Encodes the index valid for `validity`: JSON sorted by name, gzip with
/// a fixed header (mtime 0).
pub fn encode_index(entries: &[PackageEntry], validity: &Validity) -> Vec<u8> {
    let mut packages = entries.to_vec();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let doc = IndexDoc {
        format: INDEX_FORMAT,
        created: Some(validity.created_utc()),
        expires: Some(validity.expires_utc()),
        packages,
    };
    let mut json = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    json.push(b'\n');
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(&json);
    enc.finish().unwrap_or_default()
}

/// Decodes and checks the index (decompressed size capped at
/// [`MAX_INDEX_BYTES`]): its packages and its validity window (well-formed,
/// `expires` after `created`; whether it holds *now* is
/// [`Validity::check`]'s business).
pub fn decode_index(
    bytes: &[u8],
    path: &Path,
) -> Result<(Validity, Vec<PackageEntry>), PayloadError> {
    let err = |reason: String| PayloadError::Index {
        path: path.to_path_buf(),
        reason,
    };
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_INDEX_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| err(format!("not valid gzip: {e}")))?;
    if json.len() as u64 > MAX_INDEX_BYTES {
        return Err(PayloadError::IndexTooLarge {
            path: path.to_path_buf(),
            limit: MAX_INDEX_BYTES,
        });
    }
    let doc: IndexDoc =
        serde_json::from_slice(&json).map_err(|e| err(format!("invalid JSON: {e}")))?;
    if doc.format == 1 {
        return Err(err(
            "format 1 has no `created`/`expires`; an index that never expires is refused (rebuild it with `forgectl payload build --expires`)".into(),
        ));
    }
    if doc.format != INDEX_FORMAT {
        return Err(err(format!("unsupported format {}", doc.format)));
    }
    let time = |field: &str, v: &Option<String>| match v {
        None => Err(err(format!("missing `{field}`"))),
        Some(s) => parse_utc(s).ok_or_else(|| {
            err(format!(
                "invalid `{field}` {s:?} (expected YYYY-MM-DDTHH:MM:SSZ)"
            ))
        }),
    };
    let validity = Validity {
        created: time("created", &doc.created)?,
        expires: time("expires", &doc.expires)?,
    };
    if validity.expires <= validity.created {
        return Err(err(format!(
            "`expires` {} is not after `created` {}",
            validity.expires_utc(),
            validity.created_utc()
        )));
    }
    let mut names = HashSet::new();
    let mut files = HashSet::new();
    for p in &doc.packages {
        let bad = |what: &str| err(format!("package {:?}: invalid {what}", p.name));
        if !valid_name(&p.name) {
            return Err(bad("name"));
        }
        if !valid_version(&p.version) {
            return Err(bad("version"));
        }
        if !TIERS.contains(&p.tier.as_str()) {
            return Err(bad("tier"));
        }
        if !valid_archive_path(&p.file) {
            return Err(bad("file"));
        }
        if !is_sha256_hex(&p.sha256) {
            return Err(bad("sha256"));
        }
        if p.depends.iter().any(|d| !valid_name(d)) {
            return Err(bad("depends"));
        }
        if !names.insert(p.name.clone()) {
            return Err(err(format!("duplicate package {:?}", p.name)));
        }
        if !files.insert(p.file.clone()) {
            return Err(err(format!("duplicate file {:?}", p.file)));
        }
    }
    Ok((validity, doc.packages))
}
