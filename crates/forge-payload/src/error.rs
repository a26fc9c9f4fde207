//! The one error type of the crate. Every variant names the file (and the
//! field, line or archive entry where relevant) so a refusal can be reported
//! precisely to a person and asserted exactly by a test.

use std::fmt;
use std::path::PathBuf;

/// Why a detached signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigProblem {
    /// The signature file is empty.
    Empty,
    /// The signature file is not an OpenPGP signature (garbage, truncated,
    /// a key instead of a signature, ...). Carries the parser's detail.
    Malformed(String),
    /// No signature was made by a key of a certificate in the keyring.
    UnknownKey,
    /// The key (or its certificate) is expired, at signing time or now.
    KeyExpired,
    /// The key (or its certificate) is revoked, hard or soft, at signing time or now.
    KeyRevoked,
    /// The key exists but is not signing-capable (or not bound by the policy).
    NotSigningKey,
    /// A key of the keyring made it, but the signature does not match the data.
    BadSignature(String),
}

impl fmt::Display for SigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigProblem::Empty => write!(f, "empty signature file"),
            SigProblem::Malformed(d) => write!(f, "not a valid OpenPGP signature ({d})"),
            SigProblem::UnknownKey => write!(f, "not signed by any key in the keyring"),
            SigProblem::KeyExpired => write!(f, "signing key is expired"),
            SigProblem::KeyRevoked => write!(f, "signing key is revoked"),
            SigProblem::NotSigningKey => write!(f, "key is not a valid signing key"),
            SigProblem::BadSignature(d) => write!(f, "signature does not match the data ({d})"),
        }
    }
}

/// Why an archive entry was refused during deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsafeReason {
    /// The entry path is absolute.
    AbsolutePath,
    /// The entry path contains a `..` component.
    ParentDir,
    /// The entry path is empty or not valid UTF-8 / contains NUL.
    BadName,
    /// An existing component of the path inside the root is a symlink (or not a directory).
    ThroughSymlink,
    /// A symlink whose target climbs out of the root.
    SymlinkEscapes,
    /// A hard link to a path outside the root or not extracted earlier by this package.
    HardLinkTarget,
    /// A device node, fifo or other special file.
    SpecialFile,
    /// An entry declares more bytes than the package's declared installed size allows.
    EntryTooLarge,
    /// The path is reserved (the pkm database under `var/lib/pkm/`).
    ReservedPath,
    /// The entry would replace an existing directory by a non-directory (or vice versa).
    TypeConflict,
}

impl fmt::Display for UnsafeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            UnsafeReason::AbsolutePath => "absolute path",
            UnsafeReason::ParentDir => "path contains '..'",
            UnsafeReason::BadName => "invalid path name",
            UnsafeReason::ThroughSymlink => "path goes through a symlink or non-directory",
            UnsafeReason::SymlinkEscapes => "symlink target escapes the root",
            UnsafeReason::HardLinkTarget => "hard link target outside the package",
            UnsafeReason::SpecialFile => "device node, fifo or other special file",
            UnsafeReason::EntryTooLarge => "entry larger than the declared installed size",
            UnsafeReason::ReservedPath => "path reserved for the pkm database",
            UnsafeReason::TypeConflict => "conflicts with an existing file of another type",
        };
        f.write_str(s)
    }
}

/// Every failure of building, verifying or deploying a payload.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The keyring file holds no usable certificate or cannot be parsed.
    #[error("{path}: bad keyring: {reason}")]
    Keyring { path: PathBuf, reason: String },
    /// A detached signature was refused. `path` is the signature file.
    #[error("{path}: {problem}")]
    Signature { path: PathBuf, problem: SigProblem },
    /// A manifest line is malformed or duplicated.
    #[error("{path}: line {line}: {reason}")]
    Manifest {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// The index cannot be decompressed or parsed, or is inconsistent.
    #[error("{path}: {reason}")]
    Index { path: PathBuf, reason: String },
    /// The signed index expired (`expires`, UTC) at or before now: an old
    /// payload, however validly signed, is not installed.
    #[error("{path}: the signed metadata expired on {expires}; the package set is out of date and must be re-signed")]
    Expired { path: PathBuf, expires: String },
    /// The signed index was created (`created`, UTC) in the future.
    #[error(
        "{path}: the signed metadata was created on {created}, in the future (is the clock right?)"
    )]
    NotYetValid { path: PathBuf, created: String },
    /// The decompressed index exceeds [`crate::MAX_INDEX_BYTES`].
    #[error("{path}: decompressed index larger than {limit} bytes")]
    IndexTooLarge { path: PathBuf, limit: u64 },
    /// Index and manifest disagree about `file`.
    #[error("{path}: {file}: {reason}")]
    IndexManifestMismatch {
        path: PathBuf,
        file: String,
        reason: String,
    },
    /// A `.PKGINFO` is missing or malformed. `field` names the key when known.
    #[error("{path}: .PKGINFO{}: {reason}", field.as_ref().map(|f| format!(" field {f}")).unwrap_or_default())]
    PkgInfo {
        path: PathBuf,
        field: Option<String>,
        reason: String,
    },
    /// Two archives declare the same package name.
    #[error("{path}: duplicate package {name} (also in {other})")]
    DuplicatePackage {
        path: PathBuf,
        name: String,
        other: PathBuf,
    },
    /// `package` depends on `dependency`, which the payload does not have.
    #[error("package {package}: depends on {dependency}, which is not in the payload")]
    MissingDependency { package: String, dependency: String },
    /// A requested group (tier) is unknown or empty.
    #[error("unknown package group {group}")]
    UnknownGroup { group: String },
    /// An archive's bytes do not hash to the expected SHA-256.
    #[error("{path}: SHA-256 mismatch: expected {expected}, got {actual}")]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// A package is to be deployed without a clean or overridden integrity check.
    #[error("{path}: not verified ({reason})")]
    NotVerified { path: PathBuf, reason: String },
    /// An archive entry tries to leave the root or is otherwise unsafe.
    #[error("{path}: entry {entry}: {reason}")]
    UnsafeEntry {
        path: PathBuf,
        entry: String,
        reason: UnsafeReason,
    },
    /// An archive is not a valid gzipped tar (truncated, corrupt).
    #[error("{path}: corrupt archive: {reason}")]
    CorruptArchive { path: PathBuf, reason: String },
    /// Two packages of one deployment ship the same non-directory path (or
    /// one ships a file where the other needs a directory): found before
    /// extraction, and neither package is extracted.
    #[error("{path}: file conflict: /{entry} is shipped by both {package} and {other}")]
    FileConflict {
        path: PathBuf,
        entry: String,
        package: String,
        other: String,
    },
    /// The archive's `.PKGINFO` disagrees with the index entry.
    #[error("{path}: .PKGINFO field {field} is {found:?}, index says {expected:?}")]
    PkgInfoMismatch {
        path: PathBuf,
        field: String,
        expected: String,
        found: String,
    },
    /// Signing failed (key file unreadable, no signing-capable secret key, ...).
    #[error("{path}: cannot sign: {reason}")]
    Sign { path: PathBuf, reason: String },
}

impl PayloadError {
    /// Convenience constructor for [`PayloadError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PayloadError::Io {
            path: path.into(),
            source,
        }
    }

    /// The file this error is about (signature, manifest, index, archive or
    /// keyring), when there is one. Front-ends show it to name what failed.
    pub fn path(&self) -> Option<&std::path::Path> {
        use PayloadError::*;
        match self {
            Io { path, .. }
            | Keyring { path, .. }
            | Signature { path, .. }
            | Manifest { path, .. }
            | Index { path, .. }
            | IndexTooLarge { path, .. }
            | Expired { path, .. }
            | NotYetValid { path, .. }
            | IndexManifestMismatch { path, .. }
            | PkgInfo { path, .. }
            | DuplicatePackage { path, .. }
            | HashMismatch { path, .. }
            | NotVerified { path, .. }
            | UnsafeEntry { path, .. }
            | CorruptArchive { path, .. }
            | FileConflict { path, .. }
            | PkgInfoMismatch { path, .. }
            | Sign { path, .. } => Some(path),
            MissingDependency { .. } | UnknownGroup { .. } => None,
        }
    }
}
