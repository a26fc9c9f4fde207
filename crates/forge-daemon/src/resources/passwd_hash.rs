//! Password hashing for the target's shadow file through the host's libcrypt
//! (libxcrypt): `crypt_gensalt_rn` makes a setting with fresh random salt,
//! `crypt_rn` hashes. Yescrypt (`$y$`) or SHA-512 crypt (`$6$`), whichever the
//! target's PAM expects. The passphrase is copied only into buffers that are
//! wiped afterwards; it is never an argument of a process or a log line.

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};

use zeroize::Zeroizing;

#[link(name = "crypt")]
extern "C" {
    fn crypt_gensalt_rn(
        prefix: *const c_char,
        count: c_ulong,
        rbytes: *const c_char,
        nrbytes: c_int,
        output: *mut c_char,
        output_size: c_int,
    ) -> *mut c_char;
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
}

/// `struct crypt_data` is 32 KiB and change in libxcrypt; leave headroom.
const CRYPT_DATA_SIZE: usize = 64 * 1024;
const GENSALT_OUTPUT_SIZE: usize = 192;

/// A hashing scheme the target can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Yescrypt,
    Sha512,
}

impl Scheme {
    fn prefix(self) -> &'static CStr {
        match self {
            Scheme::Yescrypt => c"$y$",
            Scheme::Sha512 => c"$6$",
        }
    }
}

/// Hashes `password` with `scheme` and fresh random salt.
pub fn hash(password: &str, scheme: Scheme) -> Result<String, String> {
    if password.as_bytes().contains(&0) {
        return Err("the password contains a NUL character".into());
    }
    let mut setting = [0 as c_char; GENSALT_OUTPUT_SIZE];
    // SAFETY: prefix is NUL-terminated; rbytes NULL asks libcrypt for OS
    // randomness; output is a writable buffer of the stated size.
    let r = unsafe {
        crypt_gensalt_rn(
            scheme.prefix().as_ptr(),
            0,
            std::ptr::null(),
            0,
            setting.as_mut_ptr(),
            setting.len() as c_int,
        )
    };
    if r.is_null() {
        return Err(format!(
            "crypt_gensalt_rn({:?}) failed: {}",
            scheme.prefix(),
            std::io::Error::last_os_error()
        ));
    }
    let mut phrase: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(password.len() + 1));
    phrase.extend_from_slice(password.as_bytes());
    phrase.push(0);
    let mut data: Zeroizing<Vec<u8>> = Zeroizing::new(vec![0u8; CRYPT_DATA_SIZE]);
    // SAFETY: phrase and setting are NUL-terminated; data is a zeroed
    // buffer at least sizeof(struct crypt_data) long, as crypt_rn requires.
    let out = unsafe {
        crypt_rn(
            phrase.as_ptr() as *const c_char,
            setting.as_ptr(),
            data.as_mut_ptr() as *mut c_void,
            data.len() as c_int,
        )
    };
    if out.is_null() {
        return Err(format!(
            "crypt_rn failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: on success crypt_rn returns a NUL-terminated string inside data.
    let hashed = unsafe { CStr::from_ptr(out) }
        .to_string_lossy()
        .into_owned();
    // libxcrypt signals some failures with a hash starting with '*'.
    if hashed.starts_with('*') || !hashed.starts_with(scheme.prefix().to_str().unwrap_or("$")) {
        return Err("crypt_rn returned an invalid hash".into());
    }
    Ok(hashed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_both_schemes_and_fresh_salt() {
        let a = hash("correct horse", Scheme::Yescrypt).unwrap();
        let b = hash("correct horse", Scheme::Yescrypt).unwrap();
        assert!(a.starts_with("$y$") && a != b && !a.contains("correct"));
        let c = hash("correct horse", Scheme::Sha512).unwrap();
        assert!(c.starts_with("$6$"));
        // The host's crypt(3) verifies what we wrote: re-hash with the
        // stored hash as the setting.
        let again = {
            let mut data = vec![0u8; CRYPT_DATA_SIZE];
            let s = std::ffi::CString::new(c.clone()).unwrap();
            let p = std::ffi::CString::new("correct horse").unwrap();
            let out = unsafe {
                crypt_rn(
                    p.as_ptr(),
                    s.as_ptr(),
                    data.as_mut_ptr() as *mut c_void,
                    data.len() as c_int,
                )
            };
            unsafe { CStr::from_ptr(out) }
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(again, c);
        assert!(hash("a\0b", Scheme::Sha512).is_err());
    }
}
