#!/bin/sh
# FORGE live init: /init of the live initramfs (crates/forge-iso/src/initramfs/,
# docs/live-medium.md). POSIX shell on busybox (static, from the live tree).
#
# 1. mounts proc, sys, devtmpfs and a tmpfs on /run; loads the kernel modules
#    listed in /etc/forge-live/modules (dependencies first);
# 2. finds the medium: an ISO 9660 filesystem whose volume label is
#    igos.live.label= (or whose UUID, blkid's creation-date form, is
#    igos.live.uuid=), on a CD-ROM or on a disk (hybrid ISO: the whole
#    device), and mounts it read-only at /run/live/medium;
# 3. verifies the root filesystem, /live/filesystem.squashfs:
#    - igos.verity.roothash=<hex> on the command line: dm-verity with
#      /live/filesystem.verity as hash tree (veritysetup, no udev); the
#      kernel then checks every block as it is read;
#    - no root hash (development or older UKIs): the whole file's SHA-256
#      against /etc/forge-live/squashfs.sha256, carried in this initramfs,
#      hence in the signed UKI. The medium's /live/filesystem.sha256 is only
#      a corruption check (whoever swaps the squashfs can swap it too);
# 4. mounts it read-only at /run/live/rootfs, a tmpfs overlay for writes at
#    /newroot, moves /run (with the medium) into it, and switch_root to
#    systemd (/sbin/init).
# Any failed check: a message naming the check on every console, a pause,
# power off. Never a kernel panic loop, never a boot of unverified bytes.
# Messages are English: there is no gettext in the initramfs.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
PAUSE=30
MEDIUM=/run/live/medium
ROOTFS=/run/live/rootfs
OVERLAY=/run/live/overlay
NEWROOT=/newroot
ANCHOR=/etc/forge-live/squashfs.sha256

/bin/busybox mount -t proc -o nosuid,nodev,noexec proc /proc
/bin/busybox mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
/bin/busybox mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
/bin/busybox --install -s
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mkdir -p "$MEDIUM" "$ROOTFS" "$OVERLAY"

# Writes a line to every active console (serial and screen alike).
say() {
    for c in $(cat /sys/class/tty/console/active 2>/dev/null || echo console); do
        echo "forge-live: $*" >"/dev/$c" 2>/dev/null
    done
}

halt_now() {
    say "powering off in $PAUSE seconds."
    sleep "$PAUSE"
    sync
    poweroff -f
    # PID 1 must not exit (that is a kernel panic): wait for the power-off.
    while :; do sleep 3600; done
}

# refuse CHECK MESSAGE: a verification failed. Nothing from the medium runs.
refuse() {
    check=$1
    shift
    say "BOOT REFUSED: the $check check failed: $*"
    say "The live medium is damaged or was tampered with; nothing on it was started."
    say "FORGE-LIVE-REFUSED check=$check"
    halt_now
}

# fail STEP MESSAGE: the boot cannot go on for another reason.
fail() {
    step=$1
    shift
    say "BOOT FAILED at $step: $*"
    say "FORGE-LIVE-FAILED step=$step"
    halt_now
}

# --- the command line --------------------------------------------------------
roothash=
label=
uuid=
for w in $(cat /proc/cmdline); do
    case $w in
    igos.verity.roothash=*) roothash=${w#*=} ;;
    igos.live.label=*) label=${w#*=} ;;
    igos.live.uuid=*) uuid=${w#*=} ;;
    esac
done
if [ -n "$roothash" ]; then
    case $roothash in
    *[!0-9a-f]*) refuse dm-verity "igos.verity.roothash= is not lowercase hex" ;;
    esac
    [ ${#roothash} -ge 40 ] || refuse dm-verity "igos.verity.roothash= is too short"
fi
[ -n "$label$uuid" ] || fail medium "no igos.live.label= or igos.live.uuid= on the kernel command line"

# --- modules -----------------------------------------------------------------
while read -r m; do
    [ -n "$m" ] && insmod "$m" 2>/dev/null
done </etc/forge-live/modules

# --- the medium --------------------------------------------------------------
# iso_field DEV OFFSET LENGTH: bytes of the primary volume descriptor.
iso_field() {
    dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null
}

# Whether DEV holds the ISO 9660 filesystem we look for.
is_medium() {
    [ "$(iso_field "$1" 32769 5)" = CD001 ] || return 1
    if [ -n "$label" ]; then
        [ "$(iso_field "$1" 32808 32 | sed 's/ *$//')" = "$label" ] || return 1
    fi
    if [ -n "$uuid" ]; then
        d=$(iso_field "$1" 33581 16 | sed 's/^\(....\)\(..\)\(..\)\(..\)\(..\)\(..\)\(..\)$/\1-\2-\3-\4-\5-\6-\7/')
        [ "$d" = "$uuid" ] || return 1
    fi
    return 0
}

# Whole devices (CD-ROMs, disks with a hybrid ISO) before partitions.
find_medium() {
    for pass in whole part; do
        for s in /sys/class/block/*; do
            n=${s##*/}
            case $n in loop* | ram* | dm-* | zram*) continue ;; esac
            if [ -e "$s/partition" ]; then
                [ $pass = part ] || continue
            else
                [ $pass = whole ] || continue
            fi
            [ -b "/dev/$n" ] && is_medium "/dev/$n" && {
                echo "/dev/$n"
                return 0
            }
        done
    done
    return 1
}

say "looking for the live medium (${label:+label $label}${uuid:+ uuid $uuid})"
dev=
i=0
while [ $i -lt 120 ]; do
    dev=$(find_medium) && break
    sleep 0.5 2>/dev/null || sleep 1
    i=$((i + 1))
done
[ -n "$dev" ] || fail medium "no medium with ${label:+label $label}${uuid:+ uuid $uuid} appeared within 60 seconds"
mount -t iso9660 -o ro "$dev" "$MEDIUM" || fail medium "cannot mount $dev"
say "medium: $dev"
squashfs=$MEDIUM/live/filesystem.squashfs
[ -s "$squashfs" ] || fail medium "$dev has no /live/filesystem.squashfs"

# --- verification ------------------------------------------------------------
if [ -n "$roothash" ]; then
    hashtree=$MEDIUM/live/filesystem.verity
    [ -s "$hashtree" ] || refuse dm-verity "the medium has no /live/filesystem.verity"
    data_loop=$(losetup -f) && losetup -r "$data_loop" "$squashfs" || fail loop "cannot attach filesystem.squashfs"
    hash_loop=$(losetup -f) && losetup -r "$hash_loop" "$hashtree" || fail loop "cannot attach filesystem.verity"
    # No udev here: libdevmapper makes /dev/mapper/live-root itself.
    DM_DISABLE_UDEV=1 veritysetup open "$data_loop" live-root "$hash_loop" "$roothash" ||
        refuse dm-verity "veritysetup did not accept filesystem.verity for the root hash on the command line"
    root_dev=/dev/mapper/live-root
    # dm-verity checks each block when it is read: a changed block reads as an
    # I/O error, so the mount (superblock, tables) fails on tampered metadata.
    mount -t squashfs -o ro "$root_dev" "$ROOTFS" ||
        refuse dm-verity "filesystem.squashfs does not match the root hash sealed in the boot image"
    if DM_DISABLE_UDEV=1 veritysetup status live-root 2>/dev/null | grep -q corrupted; then
        refuse dm-verity "filesystem.squashfs does not match the root hash sealed in the boot image (corrupted blocks)"
    fi
    say "root filesystem: dm-verity, root hash $roothash"
else
    [ -s "$ANCHOR" ] || refuse sha256 "no igos.verity.roothash= on the command line and no trusted SHA-256 in the initramfs"
    want=$(cut -c1-64 "$ANCHOR")
    say "no dm-verity root hash on the command line: checking the SHA-256 of filesystem.squashfs"
    size=$(stat -c %s "$squashfs")
    avail_kb=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo)
    if [ $((size / 1024 * 3)) -lt "${avail_kb:-0}" ]; then
        # Hash the copy that will be mounted: the medium cannot change the
        # bytes between the check and the use.
        mkdir -p /run/live/copy
        mount -t tmpfs -o size=$((size / 1024 + 4096))k,mode=0700 tmpfs /run/live/copy ||
            fail copy "cannot make a tmpfs for the squashfs copy"
        cp "$squashfs" /run/live/copy/filesystem.squashfs || fail copy "cannot copy filesystem.squashfs to memory"
        squashfs=/run/live/copy/filesystem.squashfs
    else
        say "not enough memory to check a copy: checking the medium in place"
    fi
    got=$(sha256sum <"$squashfs" | cut -c1-64)
    [ "$got" = "$want" ] ||
        refuse sha256 "filesystem.squashfs has SHA-256 $got, the boot image trusts $want"
    if [ -f "$MEDIUM/live/filesystem.sha256" ] && [ "$(cut -c1-64 "$MEDIUM/live/filesystem.sha256")" != "$got" ]; then
        say "warning: /live/filesystem.sha256 on the medium is wrong (the checked value comes from the boot image)"
    fi
    root_dev=$(losetup -f) && losetup -r "$root_dev" "$squashfs" || fail loop "cannot attach filesystem.squashfs"
    mount -t squashfs -o ro "$root_dev" "$ROOTFS" || fail rootfs "cannot mount the verified filesystem.squashfs"
    say "root filesystem: SHA-256 $got (trusted value from the boot image)"
fi

# --- the writable root and the switch ----------------------------------------
mount -t tmpfs -o mode=0755 tmpfs "$OVERLAY" || fail overlay "cannot mount a tmpfs for the overlay"
mkdir -p "$OVERLAY/upper" "$OVERLAY/work"
mount -t overlay -o "lowerdir=$ROOTFS,upperdir=$OVERLAY/upper,workdir=$OVERLAY/work" overlay "$NEWROOT" ||
    fail overlay "cannot mount the overlay root"
[ -x "$NEWROOT/sbin/init" ] || [ -L "$NEWROOT/sbin/init" ] || fail switch "the root filesystem has no /sbin/init"
mkdir -p "$NEWROOT/run"
for m in /run /dev /proc /sys; do
    mount --move "$m" "$NEWROOT$m" || fail switch "cannot move $m into the new root"
done
exec switch_root "$NEWROOT" /sbin/init
# Only reached when switch_root could not run.
echo "forge-live: BOOT FAILED at switch: switch_root did not start /sbin/init" >/dev/console
echo "FORGE-LIVE-FAILED step=switch" >/dev/console
sleep "$PAUSE"
poweroff -f
while :; do sleep 3600; done
