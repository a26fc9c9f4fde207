//! Detached signature verification with sequoia, plus the "valid now" check
//! sequoia does not do by itself: a key that expired after signing, or whose
//! certificate or subkey was soft-revoked after signing, is refused.

use std::path::Path;

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::packet::key;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::types::RevocationStatus;
use openpgp::{Cert, KeyHandle};

use crate::{Keyring, PayloadError, SigProblem};

struct Helper<'k> {
    keyring: &'k Keyring,
    /// `Ok` once a signature passed every check; otherwise the problems seen.
    accepted: bool,
    problems: Vec<SigProblem>,
}

/// Classifies a key that is bad at time `t` (the amalgamation's time).
fn key_problem(ka: &ValidErasedKeyAmalgamation<'_, key::PublicParts>) -> Option<SigProblem> {
    if let RevocationStatus::Revoked(_) = ka.valid_cert().revocation_status() {
        return Some(SigProblem::KeyRevoked);
    }
    if let RevocationStatus::Revoked(_) = ka.revocation_status() {
        return Some(SigProblem::KeyRevoked);
    }
    if ka.valid_cert().alive().is_err() || ka.alive().is_err() {
        return Some(SigProblem::KeyExpired);
    }
    if !ka.for_signing() {
        return Some(SigProblem::NotSigningKey);
    }
    None
}

/// The key that made a good signature must also be valid now.
fn valid_now(ka: &ValidErasedKeyAmalgamation<'_, key::PublicParts>) -> Result<(), SigProblem> {
    let policy = StandardPolicy::new();
    let cert: &Cert = ka.cert();
    let fpr = ka.key().fingerprint();
    let vc = cert
        .with_policy(&policy, None)
        .map_err(|_| SigProblem::NotSigningKey)?;
    if let RevocationStatus::Revoked(_) = vc.revocation_status() {
        return Err(SigProblem::KeyRevoked);
    }
    let now = vc
        .keys()
        .key_handle(KeyHandle::from(fpr))
        .next()
        .ok_or(SigProblem::NotSigningKey)?;
    match key_problem(&now) {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.keyring.certs().to_vec())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure.into_iter() {
            let MessageLayer::SignatureGroup { results } = layer else {
                self.problems
                    .push(SigProblem::Malformed("unexpected message layer".into()));
                continue;
            };
            for r in results {
                let problem = match r {
                    Ok(good) => match valid_now(&good.ka) {
                        Ok(()) => {
                            self.accepted = true;
                            continue;
                        }
                        Err(p) => p,
                    },
                    Err(VerificationError::MissingKey { .. }) => SigProblem::UnknownKey,
                    Err(VerificationError::UnboundKey { .. }) => SigProblem::NotSigningKey,
                    Err(VerificationError::BadKey { ka, .. }) => {
                        key_problem(&ka).unwrap_or(SigProblem::NotSigningKey)
                    }
                    Err(VerificationError::BadSignature { error, .. }) => {
                        SigProblem::BadSignature(error.to_string())
                    }
                    Err(VerificationError::MalformedSignature { error, .. }) => {
                        SigProblem::Malformed(error.to_string())
                    }
                    Err(VerificationError::UnknownSignature { .. }) => {
                        SigProblem::Malformed("unknown signature packet".into())
                    }
                    Err(e) => SigProblem::Malformed(e.to_string()),
                };
                self.problems.push(problem);
            }
        }
        Ok(())
    }
}

fn rank(p: &SigProblem) -> u8 {
    match p {
        SigProblem::KeyRevoked => 0,
        SigProblem::KeyExpired => 1,
        SigProblem::BadSignature(_) => 2,
        SigProblem::NotSigningKey => 3,
        SigProblem::UnknownKey => 4,
        SigProblem::Malformed(_) => 5,
        SigProblem::Empty => 6,
    }
}

/// Verifies `sig` (contents of the file `sig_path`) over `data`: accepted when
/// at least one signature was made by a signing-capable key of a keyring
/// certificate that was valid at signing time and is valid now.
pub(crate) fn verify_detached(
    sig_path: &Path,
    sig: &[u8],
    data: &[u8],
    keyring: &Keyring,
) -> Result<(), PayloadError> {
    let fail = |problem: SigProblem| PayloadError::Signature {
        path: sig_path.to_path_buf(),
        problem,
    };
    if sig.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(fail(SigProblem::Empty));
    }
    let policy = StandardPolicy::new();
    let helper = Helper {
        keyring,
        accepted: false,
        problems: Vec::new(),
    };
    let mut v = DetachedVerifierBuilder::from_bytes(sig)
        .and_then(|b| b.with_policy(&policy, None, helper))
        .map_err(|e| fail(SigProblem::Malformed(e.to_string())))?;
    v.verify_bytes(data)
        .map_err(|e| fail(SigProblem::Malformed(e.to_string())))?;
    let helper = v.into_helper();
    if helper.accepted {
        return Ok(());
    }
    let worst = helper
        .problems
        .into_iter()
        .min_by_key(rank)
        .unwrap_or_else(|| SigProblem::Malformed("no signature packet".into()));
    Err(fail(worst))
}
