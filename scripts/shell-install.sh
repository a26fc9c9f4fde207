#!/usr/bin/env bash
# A plain shell-script installer of a FORGE payload: the benchmark baseline
# (scripts/bench-install.sh) and the readable reference of what an installed
# system needs to boot (docs/boot-chain.md). No verification, no registration:
# partition, format, `tar -xzf` every archive, configure, install the bootloader.
#
#   scripts/shell-install.sh IMAGE PAYLOAD_DIR MODE [HOSTNAME [USER [TIMEZONE]]]
#
# IMAGE      a disk-image file (attached with losetup -P) or a block device;
#            everything on it is destroyed.
# MODE       efi  : GPT, 512 MiB ESP (FAT32, written with mtools, never mounted)
#                   + ext4 root; shim (when the payload has it) as
#                   EFI/BOOT/BOOTX64.EFI, GRUB with SBAT metadata and every
#                   module built in, signed with a Machine Owner Key generated
#                   for this install, as EFI/BOOT/grubx64.efi.
#            bios : GPT, 1 MiB BIOS boot partition + ext4 root; grub-install
#                   --target=i386-pc.
# Defaults: HOSTNAME=forge-test USER=tester TIMEZONE=Europe/Berlin.
# Environment: FORGE_ROOT_PASSWORD / FORGE_USER_PASSWORD (default "forge"),
# FORGE_MOK_EXPORT=DIR (also copy MOK.der and MOK.pem there, for tests),
# FORGE_SHELL_INSTALL_QUIET=1 (no step messages).
set -euo pipefail

die() { echo "shell-install: $*" >&2; exit 1; }
say() { [ -n "${FORGE_SHELL_INSTALL_QUIET:-}" ] || echo "shell-install: $*" >&2; }
[ $# -ge 3 ] && [ $# -le 6 ] || die "usage: $0 IMAGE PAYLOAD_DIR efi|bios [HOSTNAME [USER [TIMEZONE]]]"
image=$1 payload=$2 mode=$3
hostname=${4:-forge-test} user=${5:-tester} tz=${6:-Europe/Berlin}
case "$mode" in efi|bios) ;; *) die "MODE must be efi or bios, not '$mode'" ;; esac
[[ "$hostname" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$ ]] \
    || die "HOSTNAME '$hostname' is not a valid lower-case host name"
[[ "$user" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] && [ "$user" != root ] || die "USER '$user' is not a valid user name"
[[ "$tz" =~ ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$ ]] || die "TIMEZONE '$tz' is not a zone name like Europe/Berlin"
[ -e "$image" ] || die "no such image or device: $image"
compgen -G "$payload/packages/*.igos.tar.gz" >/dev/null || die "no archives in $payload/packages/"
for tool in sfdisk partx mkfs.ext4 blkid tar openssl grub-mkimage; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup-debian.sh)"
done
export PATH="$PATH:/usr/sbin:/sbin"

ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
BIOS_BOOT_TYPE=21686148-6449-6E6F-744E-656564454649
ROOT_TYPE=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 # Linux root (x86-64)

# --- resources, released in reverse on any exit --------------------------------
loop="" mnt="" tmp=""
cleanup() {
    set +e
    [ -n "$mnt" ] && mountpoint -q "$mnt" && umount -R "$mnt"
    [ -n "$mnt" ] && rmdir "$mnt"
    [ -n "$loop" ] && losetup -d "$loop"
    [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
tmp=$(mktemp -d)

# --- partition -----------------------------------------------------------------
if [ -b "$image" ]; then
    disk=$image
else
    loop=$(losetup -f --show -P "$image")
    disk=$loop
fi
part() { case "$disk" in *[0-9]) echo "${disk}p$1" ;; *) echo "$disk$1" ;; esac; }
say "partitioning $disk ($mode)"
wipefs -q -a "$disk"
if [ "$mode" = efi ]; then
    printf 'label: gpt\nsize=512MiB, type=%s, name="ESP"\ntype=%s, name="root"\n' "$ESP_TYPE" "$ROOT_TYPE"
else
    printf 'label: gpt\nsize=1MiB, type=%s, name="bios-boot"\ntype=%s, name="root"\n' "$BIOS_BOOT_TYPE" "$ROOT_TYPE"
fi | sfdisk -q --wipe always --wipe-partitions always "$disk"
partx -u "$disk" 2>/dev/null || partx -a "$disk" 2>/dev/null || true
for _ in $(seq 50); do [ -b "$(part 2)" ] && break; sleep 0.1; done
[ -b "$(part 2)" ] || die "partition nodes of $disk did not appear"
p1=$(part 1) p2=$(part 2)

say "formatting"
mkfs.ext4 -q -F -L root "$p2"
if [ "$mode" = efi ]; then
    wipefs -q -a "$p1"
    mkfs.vfat -F 32 -n ESP "$p1" >/dev/null
fi
root_uuid=$(blkid -s UUID -o value "$p2")
[ -n "$root_uuid" ] || die "no UUID on $p2"

# --- mount, packages -----------------------------------------------------------
mnt=$(mktemp -d)
mount -t ext4 "$p2" "$mnt"
say "extracting $(ls "$payload"/packages/*.igos.tar.gz | wc -l) archives"
hooks=var/lib/forge-shell-install/hooks
for a in "$payload"/packages/*.igos.tar.gz; do
    n=$(basename "$a" .igos.tar.gz)
    # .PKGINFO never enters the target; .INSTALL is parked for the hooks step.
    tar --force-local -xzf "$a" -C "$mnt" --numeric-owner --exclude=.PKGINFO \
        --transform="s,^\\.INSTALL\$,$hooks/$n.INSTALL," \
        || die "extracting $a failed"
done

# --- config --------------------------------------------------------------------
say "configuring"
{
    echo "# <file system> <mount point> <type> <options> <dump> <pass>"
    echo "UUID=$root_uuid / ext4 defaults 0 1"
    if [ "$mode" = efi ]; then
        echo "UUID=$(blkid -s UUID -o value "$p1") /boot/efi vfat umask=0077 0 2"
    fi
} >"$mnt/etc/fstab"
echo "$hostname" >"$mnt/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost\n' "$hostname" >"$mnt/etc/hosts"
ln -sfn "/usr/share/zoneinfo/$tz" "$mnt/etc/localtime"

# --- users ---------------------------------------------------------------------
hash() { openssl passwd -6 -stdin <<<"$1"; }
days=$(($(date +%s) / 86400))
root_hash=$(hash "${FORGE_ROOT_PASSWORD:-forge}")
user_hash=$(hash "${FORGE_USER_PASSWORD:-forge}")
sed -i "s|^root:[^:]*:[^:]*:|root:$root_hash:$days:|" "$mnt/etc/shadow"
echo "$user:x:1000:1000:$user:/home/$user:/bin/sh" >>"$mnt/etc/passwd"
echo "$user:$user_hash:$days:0:99999:7:::" >>"$mnt/etc/shadow"
echo "$user:x:1000:" >>"$mnt/etc/group"
echo "$user:!::" >>"$mnt/etc/gshadow"
sed -i "s|^wheel:x:10:\$|wheel:x:10:$user|" "$mnt/etc/group"
mkdir -p "$mnt/home"
cp -a "$mnt/etc/skel" "$mnt/home/$user"
chown -R 1000:1000 "$mnt/home/$user"
chmod 0700 "$mnt/home/$user"

# --- hooks (each package's .INSTALL in the target) --------------------------------
if [ -d "$mnt/$hooks" ]; then
    for h in "$mnt/$hooks"/*.INSTALL; do
        say "hook $(basename "$h" .INSTALL)"
        timeout 60 chroot "$mnt" /bin/sh "/$hooks/$(basename "$h")" || say "hook $h failed (ignored)"
    done
    rm -rf "${mnt:?}/var/lib/forge-shell-install"
fi

# --- bootloader ----------------------------------------------------------------
kernel=$(cd "$mnt/boot" && ls vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || die "the payload installed no /boot/vmlinuz-*"
kver=${kernel#vmlinuz-}
[ -f "$mnt/boot/initrd.img-$kver" ] || die "no /boot/initrd.img-$kver for $kernel"
mkdir -p "$mnt/boot/grub"
cat >"$mnt/boot/grub/grub.cfg" <<EOF
# GRUB configuration written by scripts/shell-install.sh
set timeout=0
set default=0
if [ "\$grub_platform" = "pc" ]; then
  serial --unit=0 --speed=115200
  terminal_input serial console
  terminal_output serial console
fi
menuentry "InterGenOS" {
  search --no-floppy --fs-uuid --set=root $root_uuid
  linux /boot/vmlinuz-$kver root=UUID=$root_uuid ro console=tty0 console=ttyS0,115200
  initrd /boot/initrd.img-$kver
}
EOF

if [ "$mode" = bios ]; then
    say "grub-install --target=i386-pc $disk"
    command -v udevadm >/dev/null || die "grub-install needs udevadm on PATH"
    grub-install --target=i386-pc --directory="$mnt/usr/lib/grub/i386-pc" \
        --boot-directory="$mnt/boot" --modules="part_gpt ext2" "$disk" 2>"$tmp/grub-install.log" \
        || { cat "$tmp/grub-install.log" >&2; die "grub-install failed"; }
else
    for tool in mmd mcopy sbsign; do command -v "$tool" >/dev/null || die "$tool is missing"; done
    # MOK: key pair made for this machine (Debian's shim-signed layout);
    # private key root-only in the target, DER copy for mokutil/MokManager.
    mok="$mnt/var/lib/shim-signed/mok"
    install -d -m 0700 "$mok"
    openssl req -new -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 \
        -subj "/CN=InterGenOS Machine Owner Key ($hostname)/" \
        -keyout "$mok/MOK.priv" -out "$mok/MOK.pem" 2>/dev/null
    chmod 0600 "$mok/MOK.priv"
    openssl x509 -in "$mok/MOK.pem" -outform DER -out "$mok/MOK.der"
    if [ -n "${FORGE_MOK_EXPORT:-}" ]; then
        mkdir -p "$FORGE_MOK_EXPORT"
        cp "$mok/MOK.der" "$mok/MOK.pem" "$FORGE_MOK_EXPORT/"
    fi
    # GRUB: early config finds the root by UUID; grub.cfg there does the rest.
    printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\n' "$root_uuid" >"$tmp/early.cfg"
    sbat="$mnt/usr/share/grub/sbat.csv"
    [ -f "$sbat" ] || die "the payload has no /usr/share/grub/sbat.csv (grub-efi-amd64-bin)"
    grub-mkimage -O x86_64-efi -d "$mnt/usr/lib/grub/x86_64-efi" -o "$tmp/grubx64.efi.unsigned" \
        -p /boot/grub -c "$tmp/early.cfg" --sbat "$sbat" \
        part_gpt part_msdos ext2 fat search search_fs_uuid search_label normal configfile linux \
        echo test boot gzio sleep reboot halt all_video serial terminal
    sbsign --key "$mok/MOK.priv" --cert "$mok/MOK.pem" --output "$tmp/grubx64.efi" "$tmp/grubx64.efi.unsigned" \
        >"$tmp/sbsign.log" 2>&1 || { cat "$tmp/sbsign.log" >&2; die "sbsign failed"; }
    # ESP: FAT32 written with mtools, never mounted.
    export MTOOLS_SKIP_CHECK=1
    mtools() { "$@" 2>"$tmp/mtools.log" || { cat "$tmp/mtools.log" >&2; die "$1 failed"; }; }
    mtools mmd -i "$p1" ::/EFI ::/EFI/BOOT
    mtools mcopy -i "$p1" "$mok/MOK.der" ::/MOK.der  # for MokManager's "Enroll key from disk"
    shim="$mnt/usr/lib/shim/shimx64.efi.signed"
    if [ -f "$shim" ]; then
        mtools mcopy -i "$p1" "$shim" ::/EFI/BOOT/BOOTX64.EFI
        mtools mcopy -i "$p1" "$tmp/grubx64.efi" ::/EFI/BOOT/grubx64.efi
        mm="$mnt/usr/lib/shim/mmx64.efi.signed"
        if [ -f "$mm" ]; then mtools mcopy -i "$p1" "$mm" ::/EFI/BOOT/mmx64.efi; fi
    else
        mtools mcopy -i "$p1" "$tmp/grubx64.efi" ::/EFI/BOOT/BOOTX64.EFI
    fi
fi

sync
say "done: $image ($mode) root UUID $root_uuid, kernel $kver"
