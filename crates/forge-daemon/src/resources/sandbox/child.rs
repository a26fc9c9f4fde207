//! What runs in the sandbox's forked child, between fork and exec: mounting
//! the PID namespace's own /proc, lowering the capability sets and
//! installing the seccomp program. Only raw syscalls (mount, capset, prctl)
//! on memory prepared before the fork or on the stack: no allocation, no
//! lock, as `Command::pre_exec` in a multi-threaded process requires.

use std::ffi::CString;

use seccompiler::BpfProgram;

use super::confine::KEPT_CAPS;

/// /proc entries made read-only: global kernel knobs, not the namespace's.
const PROC_READ_ONLY: &[&str] = &[
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/irq",
    "/proc/bus",
    "/proc/fs",
];

/// The capability sets as capset(2) takes them (version 3: two 32-bit words).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPS_V3: u32 = 0x2008_0522;

/// The capabilities the script keeps: those of [`KEPT_CAPS`] the calling
/// thread still has. Under the systemd unit the daemon's permitted set is
/// its `CapabilityBoundingSet=`, which lacks some of [`KEPT_CAPS`]
/// (CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE): capset(2) refuses
/// (EPERM) to put into the permitted set what is not there already, so the
/// mask is the intersection. Computed before the fork (it allocates).
pub(super) fn kept_mask() -> std::io::Result<u64> {
    let permitted = caps::read(None, caps::CapSet::Permitted)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(KEPT_CAPS
        .iter()
        .filter(|c| permitted.contains(c))
        .fold(0u64, |m, c| m | c.bitmask()))
}

/// Runs in the forked child: effective and permitted sets down to `mask`
/// (from [`kept_mask`]), inheritable empty (lowering needs no capability).
pub(super) fn lower_capabilities(mask: u64) -> std::io::Result<()> {
    let word = |shift: u32| {
        let m = (mask >> shift) as u32;
        CapData {
            effective: m,
            permitted: m,
            inheritable: 0,
        }
    };
    let hdr = CapHeader {
        version: CAPS_V3,
        pid: 0,
    };
    let data = [word(0), word(32)];
    // SAFETY: capset(2) reads a valid header and two data words from our
    // stack.
    if unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Runs in the forked child: `no_new_privs`, then the filter, both through
/// prctl(2) (the unit's system call filter allows prctl, not seccomp(2)).
pub(super) fn install_filter(filter: &BpfProgram) -> std::io::Result<()> {
    #[repr(C)]
    struct SockFprog {
        len: libc::c_ushort,
        filter: *const seccompiler::sock_filter,
    }
    let prog = SockFprog {
        len: filter.len() as libc::c_ushort,
        filter: filter.as_ptr(),
    };
    // SAFETY: plain prctl(2) calls; the kernel copies the program from
    // `prog`, which points into `filter`, alive for the call.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const SockFprog,
            ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The child's /proc (it must be mounted from inside the new PID namespace
/// to show that namespace), prepared as C strings before the fork.
pub(super) struct ProcMounts {
    proc: CString,
    read_only: Vec<CString>,
}

impl ProcMounts {
    pub(super) fn new() -> ProcMounts {
        let c = |s: &str| CString::new(s).expect("no NUL in a constant path");
        ProcMounts {
            proc: c("/proc"),
            read_only: PROC_READ_ONLY.iter().map(|p| c(p)).collect(),
        }
    }

    /// Runs in the forked child: raw mount(2) calls only (see `enter`).
    pub(super) fn apply(&self) -> std::io::Result<()> {
        let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        // SAFETY: every pointer is a NUL-terminated string owned by `self`
        // or a static literal, alive for the call; data is NULL.
        unsafe {
            if libc::mount(
                c"proc".as_ptr(),
                self.proc.as_ptr(),
                c"proc".as_ptr(),
                flags,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            for p in &self.read_only {
                if libc::mount(
                    p.as_ptr(),
                    p.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) != 0
                {
                    // Absent on this kernel: nothing to protect.
                    continue;
                }
                if libc::mount(
                    std::ptr::null(),
                    p.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | flags,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
        Ok(())
    }
}
