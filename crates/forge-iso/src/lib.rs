//! forge-iso: builds FORGE's live medium, a reproducible hybrid UEFI+BIOS
//! ISO whose root filesystem (a squashfs) is verified at boot by dm-verity,
//! with the root hash sealed in Secure-Boot-signed UKIs, and by a whole-file
//! SHA-256 as the fallback for development UKIs (docs/live-medium.md).
//!
//! One module per build phase, run in order by [`build::run`]:
//! [`squashfs`] → [`verity`] (+ SHA-256) → [`initramfs`] (the live init,
//! helper-owned) → [`uki`] → [`esp`] → [`isoroot`] (with [`grub`]) →
//! [`xorriso`] → [`verify`] (the written image, parsed here) → [`manifest`].

pub mod build;
pub mod cli;
pub mod esp;
pub mod fault;
pub mod grub;
pub mod hash;
pub mod initramfs;
pub mod isoroot;
pub mod manifest;
pub mod squashfs;
pub mod tools;
pub mod uki;
pub mod verify;
pub mod verity;
pub mod xorriso;
