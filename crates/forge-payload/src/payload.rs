//! A verified payload: both signatures checked, then the very bytes that were
//! verified parsed into the manifest and the index, and the two cross-checked.
//! The index must be fresh (its signed `created`/`expires` window holds
//! now), and the payload keeps the keyring that verified it, so what the
//! daemon copies into the target (`/etc/pkm/trusted.gpg`) is that very copy.
//! Also the package groups (tiers) and their dependency closure.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::freshness::{unix_secs, Validity};
use crate::index::{
    decode_index, parse_manifest, PackageEntry, INDEX, INDEX_SIG, MANIFEST, MANIFEST_SIG,
    MAX_INDEX_BYTES, MAX_MANIFEST_BYTES, MAX_SIG_BYTES,
};
use crate::pkginfo::TIERS;
use crate::sigcheck::verify_detached;
use crate::{Keyring, PayloadError};

/// Where the installed system's pkm database records the payload
/// ([`Payload::pkm_record`]), relative to the target root.
pub const PKM_PAYLOAD_RECORD: &str = "var/lib/pkm/payload";

/// A payload whose manifest and index were verified against a keyring.
/// Archives are not hashed yet: see [`Payload::verify_archives`].
#[derive(Debug, Clone)]
pub struct Payload {
    dir: PathBuf,
    packages: Vec<PackageEntry>,
    manifest: BTreeMap<String, String>,
    validity: Validity,
    keyring: Keyring,
}

/// One package group (tier) of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// The tier name (`toolchain`, `core`, `base`, `desktop`, `extra`, `ai`).
    pub name: String,
    /// Number of packages whose tier this is.
    pub packages: u32,
    /// Sum of their archive sizes.
    pub download_size: u64,
    /// Sum of their installed sizes.
    pub installed_size: u64,
}

/// Reads a whole file, refusing more than `cap` bytes.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, PayloadError> {
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut buf))
        .map_err(|e| PayloadError::io(path, e))?;
    if buf.len() as u64 > cap {
        return Err(PayloadError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("file larger than {cap} bytes"),
            ),
        ));
    }
    Ok(buf)
}

/// Checks both detached signatures (manifest `.asc`, index `.sig`) against
/// `keyring`, then parses exactly the bytes that were verified (each signed
/// file is read once) and cross-checks them: every index entry must be in the
/// manifest with the same SHA-256 and every manifest entry in the index.
/// An index that expired, or was created in the future, is refused
/// ([`PayloadError::Expired`], [`PayloadError::NotYetValid`]).
pub fn open_verified(dir: &Path, keyring: &Keyring) -> Result<Payload, PayloadError> {
    open_verified_at(dir, keyring, std::time::SystemTime::now())
}

/// [`open_verified`] with the freshness of the index judged at `now`.
pub fn open_verified_at(
    dir: &Path,
    keyring: &Keyring,
    now: std::time::SystemTime,
) -> Result<Payload, PayloadError> {
    let manifest_path = dir.join(MANIFEST);
    let index_path = dir.join(INDEX);

    let manifest_bytes = read_capped(&manifest_path, MAX_MANIFEST_BYTES)?;
    let manifest_sig_path = dir.join(MANIFEST_SIG);
    let manifest_sig = read_capped(&manifest_sig_path, MAX_SIG_BYTES)?;
    verify_detached(&manifest_sig_path, &manifest_sig, &manifest_bytes, keyring)?;
    let manifest = parse_manifest(&manifest_bytes, &manifest_path)?;

    // The compressed index is capped like the decompressed one.
    let index_bytes = read_capped(&index_path, MAX_INDEX_BYTES)?;
    let index_sig_path = dir.join(INDEX_SIG);
    let index_sig = read_capped(&index_sig_path, MAX_SIG_BYTES)?;
    verify_detached(&index_sig_path, &index_sig, &index_bytes, keyring)?;
    let (validity, packages) = decode_index(&index_bytes, &index_path)?;
    validity.check(unix_secs(now), &index_path)?;

    let mismatch = |file: &str, reason: &str| PayloadError::IndexManifestMismatch {
        path: index_path.clone(),
        file: file.to_string(),
        reason: reason.to_string(),
    };
    for p in &packages {
        match manifest.get(&p.file) {
            None => return Err(mismatch(&p.file, "not listed in the manifest")),
            Some(h) if *h != p.sha256 => {
                return Err(mismatch(&p.file, "SHA-256 differs from the manifest"))
            }
            Some(_) => {}
        }
    }
    if manifest.len() != packages.len() {
        if let Some(f) = manifest
            .keys()
            .find(|f| !packages.iter().any(|p| &p.file == *f))
        {
            return Err(mismatch(f, "listed in the manifest but not in the index"));
        }
    }
    Ok(Payload {
        dir: dir.to_path_buf(),
        packages,
        manifest,
        validity,
        keyring: keyring.clone(),
    })
}

impl Payload {
    /// The payload directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every package of the (verified) index, sorted by name.
    pub fn packages(&self) -> &[PackageEntry] {
        &self.packages
    }

    /// The signed validity window of the index (`created`, `expires`).
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The keyring the signatures were verified with.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// What the installed system's pkm database records about the payload it
    /// came from (`ROOT/var/lib/pkm/payload`): `key = value` lines.
    pub fn pkm_record(&self) -> Vec<u8> {
        format!(
            "created = {}\nexpires = {}\nsigners = {}\n",
            self.validity.created_utc(),
            self.validity.expires_utc(),
            self.keyring.fingerprints().join(",")
        )
        .into_bytes()
    }

    /// The verified manifest: `packages/<file>` -> SHA-256.
    pub fn manifest(&self) -> &BTreeMap<String, String> {
        &self.manifest
    }

    /// One summary per tier that has packages, in tier order.
    pub fn group_summaries(&self) -> Vec<GroupSummary> {
        TIERS
            .iter()
            .filter_map(|t| {
                let members: Vec<_> = self.packages.iter().filter(|p| p.tier == *t).collect();
                (!members.is_empty()).then(|| GroupSummary {
                    name: t.to_string(),
                    packages: members.len() as u32,
                    download_size: members.iter().map(|p| p.size).sum(),
                    installed_size: members.iter().map(|p| p.installed_size).sum(),
                })
            })
            .collect()
    }

    /// The packages of `groups` plus their dependency closure, dependencies
    /// before dependents, in a deterministic order. An unknown (or empty)
    /// group and a dependency the payload does not have are errors naming them.
    pub fn resolve_groups(&self, groups: &[String]) -> Result<Vec<PackageEntry>, PayloadError> {
        let by_name: HashMap<&str, &PackageEntry> =
            self.packages.iter().map(|p| (p.name.as_str(), p)).collect();
        let mut roots: Vec<&PackageEntry> = Vec::new();
        for g in groups {
            let members: Vec<_> = self.packages.iter().filter(|p| &p.tier == g).collect();
            if members.is_empty() {
                return Err(PayloadError::UnknownGroup { group: g.clone() });
            }
            roots.extend(members);
        }
        let tier_rank = |t: &str| TIERS.iter().position(|x| *x == t).unwrap_or(TIERS.len());
        roots.sort_by(|a, b| (tier_rank(&a.tier), &a.name).cmp(&(tier_rank(&b.tier), &b.name)));

        // Iterative DFS, post-order: a package is emitted after its deps.
        // 0 = unseen, 1 = in progress (cycles are broken here), 2 = emitted.
        let mut state: HashMap<&str, u8> = HashMap::new();
        let mut out = Vec::new();
        for root in roots {
            let mut stack: Vec<(&PackageEntry, usize)> = vec![(root, 0)];
            if state.get(root.name.as_str()).copied().unwrap_or(0) != 0 {
                continue;
            }
            state.insert(&root.name, 1);
            while let Some((pkg, i)) = stack.pop() {
                if let Some(dep) = pkg.depends.get(i) {
                    stack.push((pkg, i + 1));
                    let d = by_name.get(dep.as_str()).ok_or_else(|| {
                        PayloadError::MissingDependency {
                            package: pkg.name.clone(),
                            dependency: dep.clone(),
                        }
                    })?;
                    if state.get(d.name.as_str()).copied().unwrap_or(0) == 0 {
                        state.insert(&d.name, 1);
                        stack.push((d, 0));
                    }
                } else {
                    state.insert(&pkg.name, 2);
                    out.push(pkg.clone());
                }
            }
        }
        Ok(out)
    }
}
