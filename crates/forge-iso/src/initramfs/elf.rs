//! The two things the initramfs needs from an x86-64 ELF executable or
//! shared library: its program interpreter (`PT_INTERP`) and the libraries
//! it needs (`DT_NEEDED`). Read from the file's own bytes, never by running
//! the host's `ldd`: the libraries come from the live tree, not the host.

use anyhow::{bail, Context, Result};

/// What an ELF file asks the dynamic loader for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dynamic {
    /// `PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2` (None: static).
    pub interp: Option<String>,
    /// `DT_NEEDED` sonames, in order.
    pub needed: Vec<String>,
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;

fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    let s = b.get(at..at + 2).context("ELF truncated")?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    let s = b.get(at..at + 4).context("ELF truncated")?;
    Ok(u32::from_le_bytes(s.try_into()?))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64> {
    let s = b.get(at..at + 8).context("ELF truncated")?;
    Ok(u64::from_le_bytes(s.try_into()?))
}

fn usize_at(b: &[u8], at: usize) -> Result<usize> {
    Ok(usize::try_from(u64_at(b, at)?)?)
}

fn c_string(b: &[u8], at: usize) -> Result<String> {
    let rest = b.get(at..).context("ELF string out of range")?;
    let end = rest
        .iter()
        .position(|&c| c == 0)
        .context("ELF string unterminated")?;
    Ok(String::from_utf8(rest[..end].to_vec())?)
}

struct Segment {
    kind: u32,
    offset: usize,
    vaddr: u64,
    filesz: usize,
}

/// Parses `bytes` as a little-endian ELF64 file. A file that is not ELF
/// (e.g. a script) is an error.
pub fn dynamic(bytes: &[u8]) -> Result<Dynamic> {
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        bail!("not an ELF file");
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        bail!("not a little-endian 64-bit ELF file");
    }
    let phoff = usize_at(bytes, 0x20)?;
    let phentsize = usize::from(u16_at(bytes, 0x36)?);
    let phnum = usize::from(u16_at(bytes, 0x38)?);
    let mut segments = Vec::with_capacity(phnum);
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        segments.push(Segment {
            kind: u32_at(bytes, at)?,
            offset: usize_at(bytes, at + 8)?,
            vaddr: u64_at(bytes, at + 16)?,
            filesz: usize_at(bytes, at + 32)?,
        });
    }
    let mut out = Dynamic::default();
    if let Some(s) = segments.iter().find(|s| s.kind == PT_INTERP) {
        out.interp = Some(c_string(bytes, s.offset)?);
    }
    let Some(dynseg) = segments.iter().find(|s| s.kind == PT_DYNAMIC) else {
        return Ok(out);
    };
    let mut needed_offsets = Vec::new();
    let mut strtab_vaddr = None;
    let mut at = dynseg.offset;
    while at + 16 <= dynseg.offset + dynseg.filesz {
        let (tag, val) = (u64_at(bytes, at)?, u64_at(bytes, at + 8)?);
        match tag {
            0 => break,
            DT_NEEDED => needed_offsets.push(usize::try_from(val)?),
            DT_STRTAB => strtab_vaddr = Some(val),
            _ => {}
        }
        at += 16;
    }
    if needed_offsets.is_empty() {
        return Ok(out);
    }
    let strtab_vaddr = strtab_vaddr.context("DT_NEEDED without DT_STRTAB")?;
    let load = segments
        .iter()
        .find(|s| {
            s.kind == PT_LOAD && s.vaddr <= strtab_vaddr && strtab_vaddr < s.vaddr + s.filesz as u64
        })
        .context("DT_STRTAB outside every PT_LOAD segment")?;
    let strtab = load.offset + usize::try_from(strtab_vaddr - load.vaddr)?;
    for off in needed_offsets {
        out.needed.push(c_string(bytes, strtab + off)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_dynamic_executable() {
        // The test runs on a glibc system: /bin/sh (dash or bash) is dynamic.
        let bytes = std::fs::read("/bin/sh").expect("/bin/sh");
        let d = dynamic(&bytes).expect("parse /bin/sh");
        assert!(
            d.interp.as_deref().is_some_and(|i| i.contains("ld-linux")),
            "{d:?}"
        );
        assert!(d.needed.iter().any(|n| n == "libc.so.6"), "{d:?}");
    }

    #[test]
    fn refuses_non_elf() {
        assert!(dynamic(b"#!/bin/sh\n").is_err());
        assert!(dynamic(b"\x7fELF\x01\x01").is_err());
        assert!(dynamic(b"\x7fELF\x02\x01\0\0").is_err());
    }
}
