//! A guard on the decompressed tar stream, between gzip and the `tar`
//! crate: it follows the tar framing itself (512-byte headers, data padded
//! to 512) and refuses an extension record (GNU long name `L`, long link
//! `K`, pax `x`/`g`) declaring more than [`MAX_EXTENSION_BYTES`] before the
//! `tar` crate sees its header. The `tar` crate reads such records whole
//! into memory with no cap, so a header declaring 16 GiB would otherwise be
//! an allocation the archive's author chooses.
//!
//! Why a framing guard rather than our own tar parser: the `tar` crate stays
//! the one parser of paths, links and pax overrides (scan and extraction see
//! exactly the same entries); the guard only has to know where each header
//! starts, which needs the header size field and a pax `size` override (read
//! from a record that is itself capped). GNU sparse entries (`S`, whose
//! extra headers change the framing) are refused here; extraction refuses
//! them anyway.

use std::io::{self, Read};

/// The largest extension record (long name, long link, pax) accepted.
pub const MAX_EXTENSION_BYTES: u64 = 64 << 10;

const BLOCK: usize = 512;

/// A reader passing a tar stream through unchanged, or failing with
/// `InvalidData` at the first header it refuses.
pub struct TarGuard<R> {
    inner: R,
    header: [u8; BLOCK],
    have: usize,
    /// Data and padding bytes left before the next header.
    skip: u64,
    /// Bytes of the current pax record still to capture.
    capture_left: u64,
    pax: Vec<u8>,
    /// The size a pax `size` record sets for the next real entry.
    pax_size: Option<u64>,
    /// The end-of-archive block was seen: everything after passes through.
    done: bool,
}

fn refuse(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A tar numeric field: octal text, or base-256 when the high bit is set
/// (as the `tar` crate reads it).
fn numeric(field: &[u8]) -> io::Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let (high, low) = field.split_at(field.len().saturating_sub(8));
        if high.iter().skip(1).any(|b| *b != 0) || high.first().is_some_and(|b| b & 0x7f != 0) {
            return Err(refuse("size field out of range".into()));
        }
        return Ok(low.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)));
    }
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    let text = std::str::from_utf8(&field[..end]).map_err(|_| refuse("bad size field".into()))?;
    u64::from_str_radix(text.trim(), 8).map_err(|_| refuse("bad size field".into()))
}

/// The `size` value of a pax record set, if any (`LEN key=value\n` records).
fn pax_size(mut data: &[u8]) -> Option<u64> {
    let mut found = None;
    while !data.is_empty() {
        let sp = data.iter().position(|b| *b == b' ')?;
        let len: usize = std::str::from_utf8(&data[..sp]).ok()?.parse().ok()?;
        if len <= sp + 1 || len > data.len() {
            return found;
        }
        let rec = &data[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(v) = rec.strip_prefix(b"size=") {
            found = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok());
        }
        data = &data[len..];
    }
    found
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64).saturating_mul(BLOCK as u64)
}

impl<R: Read> TarGuard<R> {
    pub fn new(inner: R) -> TarGuard<R> {
        TarGuard {
            inner,
            header: [0; BLOCK],
            have: 0,
            skip: 0,
            capture_left: 0,
            pax: Vec::new(),
            pax_size: None,
            done: false,
        }
    }

    fn on_header(&mut self) -> io::Result<()> {
        let h = &self.header;
        if h.iter().all(|b| *b == 0) {
            self.done = true;
            return Ok(());
        }
        let size = numeric(&h[124..136])?;
        let recognized = &h[257..263] == b"ustar\0" || &h[257..265] == b"ustar  \0";
        match h[156] {
            kind @ (b'L' | b'K' | b'x' | b'g') => {
                if size > MAX_EXTENSION_BYTES {
                    return Err(refuse(format!(
                        "extension header '{}' of {size} bytes (limit {MAX_EXTENSION_BYTES})",
                        kind as char
                    )));
                }
                if kind == b'x' && recognized {
                    self.pax.clear();
                    self.capture_left = size;
                }
                self.skip = padded(size);
            }
            b'S' => return Err(refuse("GNU sparse entries are not supported".into())),
            _ => {
                let size = if recognized {
                    self.pax_size.take().unwrap_or(size)
                } else {
                    size
                };
                self.pax_size = None;
                self.skip = padded(size);
            }
        }
        Ok(())
    }

    /// Follows the framing over `buf` (bytes about to be handed on).
    fn follow(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() && !self.done {
            if self.skip > 0 {
                let k = (self.skip.min(buf.len() as u64)) as usize;
                if self.capture_left > 0 {
                    let c = (self.capture_left.min(k as u64)) as usize;
                    self.pax.extend_from_slice(&buf[..c]);
                    self.capture_left -= c as u64;
                    if self.capture_left == 0 {
                        self.pax_size = pax_size(&self.pax);
                        self.pax = Vec::new();
                    }
                }
                self.skip -= k as u64;
                buf = &buf[k..];
                continue;
            }
            let k = (BLOCK - self.have).min(buf.len());
            self.header[self.have..self.have + k].copy_from_slice(&buf[..k]);
            self.have += k;
            buf = &buf[k..];
            if self.have == BLOCK {
                self.have = 0;
                self.on_header()?;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields() {
        assert_eq!(numeric(b"00000001750\0").unwrap(), 0o1750);
        let mut b256 = [0u8; 12];
        b256[0] = 0x80;
        b256[7] = 4; // 4 << 32 = 16 GiB
        assert_eq!(numeric(&b256).unwrap(), 16 << 30);
    }

    #[test]
    fn pax_size_record() {
        assert_eq!(pax_size(b"12 size=700\n9 uid=0\n"), Some(700));
        assert_eq!(pax_size(b"9 uid=0\n"), None);
    }
}
