#!/usr/bin/env bash
# Builds FORGE's boot test payload: a bootable mini system in FORGE's package
# format (docs/package-format.md), made from real Debian packages plus the
# project's own small packages in tests/payload/.
#
#   scripts/build-test-payload.sh OUT_DIR
#
# Output:
#   OUT_DIR/packages/<name>-<version>.igos.tar.gz
#   OUT_DIR/intergenos-archive-manifest.txt{,.asc}, OUT_DIR/InterGenOS.db{,.sig}
#       only when a `forgectl` is found (FORGECTL=path, or on PATH): signed with
#       a key generated once for the tests:
#   OUT_DIR-keys/signing-key.asc   secret key (armored, no passphrase; tests only)
#   OUT_DIR-keys/keyring.asc       its public certificate (the daemon's keyring)
#
# Environment: FORGE_DEB_CACHE keeps the downloaded .debs (default: the
# machine-wide /var/cache/forge-test/debs when it can be written, so a fresh
# clone reuses them, else OUT_DIR/../forge-deb-cache; files are named by
# package and version, so the cache is keyed by its inputs); FORGE_KERNEL_PKG overrides the kernel package
# (default: what linux-image-cloud-amd64 depends on); FORGECTL.
#
# Cached: nothing is rebuilt while this script and tests/payload/ are
# unchanged (their hash is in OUT_DIR/.stamp). Concurrent callers serialize
# on OUT_DIR.lock (flock).
set -euo pipefail

die() { echo "build-test-payload: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUT_DIR"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
src="$repo/tests/payload"
[ -d "$src" ] || die "missing $src"
mkdir -p "$1"
out=$(cd "$1" && pwd)
keys="$out-keys"
machine_cache=/var/cache/forge-test/debs
if [ -n "${FORGE_DEB_CACHE:-}" ]; then
    cache=$FORGE_DEB_CACHE
elif mkdir -p "$machine_cache" 2>/dev/null && [ -w "$machine_cache" ]; then
    cache=$machine_cache
else
    cache="$(dirname "$out")/forge-deb-cache"
fi
mkdir -p "$cache"

exec 9>"$out.lock"
flock 9

# --- cache check -------------------------------------------------------------
stamp=$( {
    sha256sum <"${BASH_SOURCE[0]}"
    (cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    echo "kernel=${FORGE_KERNEL_PKG:-default}"
} | sha256sum | cut -d' ' -f1)

find_forgectl() {
    if [ -n "${FORGECTL:-}" ]; then
        [ -x "$FORGECTL" ] || die "FORGECTL=$FORGECTL is not executable"
        echo "$FORGECTL"
    elif command -v forgectl >/dev/null 2>&1; then
        command -v forgectl
    fi
}

sign_payload() {
    local forgectl
    forgectl=$(find_forgectl)
    if [ -z "$forgectl" ]; then
        echo "build-test-payload: manifest and index not written here (no forgectl; set FORGECTL); tests/harness/test_payload.rs signs with forge-payload" >&2
        return 0
    fi
    if [ ! -s "$keys/signing-key.asc" ] || [ ! -s "$keys/keyring.asc" ]; then
        local gh
        gh=$(mktemp -d)
        mkdir -p "$keys"
        GNUPGHOME="$gh" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
            --quick-gen-key "FORGE boot test payload <boot-test@forge.invalid>" ed25519 sign never
        GNUPGHOME="$gh" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
            --armor --export-secret-keys >"$keys/signing-key.asc.tmp"
        GNUPGHOME="$gh" gpg --batch --quiet --armor --export >"$keys/keyring.asc.tmp"
        gpgconf --homedir "$gh" --kill all 2>/dev/null || true
        rm -rf "$gh"
        chmod 600 "$keys/signing-key.asc.tmp"
        mv "$keys/signing-key.asc.tmp" "$keys/signing-key.asc"
        mv "$keys/keyring.asc.tmp" "$keys/keyring.asc"
    fi
    "$forgectl" payload build "$out" --sign-key "$keys/signing-key.asc" >&2
}

signed() { [ -s "$out/InterGenOS.db.sig" ] && [ -s "$out/intergenos-archive-manifest.txt.asc" ]; }

if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    signed || sign_payload
    exit 0
fi

# --- fetch the Debian packages -----------------------------------------------
apt_get() { apt-get -q -o APT::Sandbox::User=root "$@"; }

kernel_pkg="${FORGE_KERNEL_PKG:-}"
if [ -z "$kernel_pkg" ]; then
    resolve() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }'; }
    kernel_pkg=$(resolve)
    if [ -z "$kernel_pkg" ]; then
        apt_get update >&2
        kernel_pkg=$(resolve)
    fi
    [ -n "$kernel_pkg" ] || die "cannot resolve the kernel package of linux-image-cloud-amd64"
fi
kver="${kernel_pkg#linux-image-}"

debs=("$kernel_pkg" busybox-static grub-efi-amd64-bin grub-pc-bin shim-signed shim-helpers-amd64-signed)
deb_file() { find "$cache" -maxdepth 1 -name "${1}_*.deb" | sort -V | tail -n 1; }
# The cache may be shared by several clones: one downloads at a time.
exec 8>"$cache/.lock"
flock 8
missing=()
for p in "${debs[@]}"; do
    [ -n "$(deb_file "$p")" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if ! (cd "$cache" && apt_get download "${missing[@]}" >&2); then
        apt_get update >&2
        (cd "$cache" && apt_get download "${missing[@]}" >&2) || die "apt-get download ${missing[*]} failed"
    fi
fi
flock -u 8

# --- helpers -----------------------------------------------------------------
work=$(mktemp -d "$out.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
new="$work/payload"
mkdir -p "$new/packages"
epoch=1700000000
gz() { if command -v pigz >/dev/null 2>&1; then pigz -6 -n; else gzip -6 -n; fi; }

# make_archive NAME VERSION TIER ROOT [INSTALL_SCRIPT]; dependencies in DEPENDS=(...)
make_archive() {
    local name=$1 version=$2 tier=$3 root=$4 install=${5:-} meta="$work/meta-$1" size entries
    mkdir -p "$meta"
    size=$(du -sb --apparent-size "$root" | cut -f1)
    {
        echo "pkgname = $name"
        echo "pkgver = $version"
        echo "tier = $tier"
        echo "arch = x86_64"
        for d in "${DEPENDS[@]}"; do echo "depend = $d"; done
        echo "size = $size"
    } >"$meta/.PKGINFO"
    local metas=(.PKGINFO)
    if [ -n "$install" ]; then
        install -m 0755 "$install" "$meta/.INSTALL"
        metas+=(.INSTALL)
    fi
    mapfile -t entries < <(cd "$root" && ls -A)
    tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
        -C "$meta" -cf - "${metas[@]}" -C "$root" "${entries[@]}" \
        | gz >"$new/packages/$name-$version.igos.tar.gz"
    echo "build-test-payload: $name $version ($tier, $size bytes)" >&2
}

# unpack_deb PACKAGE -> prints the unpacked root; VERSION of the last call in $deb_version
unpack_deb() {
    local f root="$work/root-$1"
    f=$(deb_file "$1")
    [ -n "$f" ] || die "no .deb for $1 in $cache"
    mkdir -p "$root"
    dpkg-deb -x "$f" "$root"
    deb_version=$(dpkg-deb -f "$f" Version)
}

# --- Debian packages ---------------------------------------------------------
unpack_deb "$kernel_pkg"; kernel_version=$deb_version
kroot="$work/root-$kernel_pkg"
[ -f "$kroot/boot/vmlinuz-$kver" ] || die "$kernel_pkg has no /boot/vmlinuz-$kver"
depmod -b "$kroot" "$kver"  # what the Debian postinst would do
DEPENDS=(); make_archive "$kernel_pkg" "$kernel_version" core "$kroot"

unpack_deb busybox-static; busybox_version=$deb_version
bbroot="$work/root-busybox-static"
[ -x "$bbroot/bin/busybox" ] || die "busybox-static has no /bin/busybox"
DEPENDS=(); make_archive busybox-static "$busybox_version" core "$bbroot"

unpack_deb grub-efi-amd64-bin; grub_version=$deb_version
install -D -m 0644 /dev/null "$work/root-grub-efi-amd64-bin/usr/share/grub/sbat.csv"
sed "s/@GRUB_VERSION@/$grub_version/" "$src/grub/sbat.csv" >"$work/root-grub-efi-amd64-bin/usr/share/grub/sbat.csv"
DEPENDS=(); make_archive grub-efi-amd64-bin "$grub_version" core "$work/root-grub-efi-amd64-bin"

unpack_deb grub-pc-bin
DEPENDS=(); make_archive grub-pc-bin "$deb_version" core "$work/root-grub-pc-bin"

unpack_deb shim-signed
[ -f "$work/root-shim-signed/usr/lib/shim/shimx64.efi.signed" ] || die "shim-signed has no shimx64.efi.signed"
DEPENDS=(); make_archive shim-signed "$deb_version" core "$work/root-shim-signed"

unpack_deb shim-helpers-amd64-signed
DEPENDS=(shim-signed); make_archive shim-helpers-amd64-signed "$deb_version" base "$work/root-shim-helpers-amd64-signed"

# --- base-layout ---------------------------------------------------------------
bl="$work/root-base-layout"
mkdir -p "$bl"
cp -a "$src/base-layout/root/." "$bl/"
for d in bin sbin lib usr/bin usr/sbin usr/lib usr/share etc/skel dev proc sys run mnt home boot boot/efi \
    var/lib var/log var/cache; do
    mkdir -p "$bl/$d"
done
install -d -m 1777 "$bl/tmp" "$bl/var/tmp"
install -d -m 0700 "$bl/root"
chmod 0644 "$bl/etc/passwd" "$bl/etc/group" "$bl/etc/os-release" "$bl/etc/hosts" "$bl/etc/profile" \
    "$bl/etc/shells" "$bl/etc/skel/.profile"
chmod 0600 "$bl/etc/shadow" "$bl/etc/gshadow"
cp "$bl/etc/skel/.profile" "$bl/root/.profile"
# busybox applet links (relative, so they stay inside any root); /sbin/init
# belongs to forge-test-init.
while read -r applet; do
    case "$applet" in sbin/init|linuxrc|bin/busybox|"") continue ;; esac
    dir=$(dirname "$applet")
    case "$dir" in
        bin) target=busybox ;;
        sbin) target=../bin/busybox ;;
        usr/bin|usr/sbin) target=../../bin/busybox ;;
        *) continue ;;
    esac
    ln -sfn "$target" "$bl/$applet"
done < <("$bbroot/bin/busybox" --list-full)
[ -L "$bl/bin/sh" ] || die "busybox has no sh applet"
DEPENDS=(busybox-static); make_archive base-layout 1.0 core "$bl"

# --- forge-initramfs -----------------------------------------------------------
ir="$work/initramfs"
mkdir -p "$ir/bin" "$ir/etc" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/newroot" "$ir/lib/modules"
cp "$bbroot/bin/busybox" "$ir/bin/busybox"
install -m 0755 "$src/initramfs/init" "$ir/init"
modules=(virtio_pci virtio_blk virtio_scsi sd_mod ata_piix)
: >"$ir/etc/modules.order"
for m in "${modules[@]}"; do
    modprobe -d "$kroot" -S "$kver" --show-depends "$m" | while read -r kind path _; do
        [ "$kind" = insmod ] || continue
        rel=${path#"$kroot/lib/modules/$kver/"}
        grep -qxF "$rel" "$ir/etc/modules.order" && continue
        install -D -m 0644 "$path" "$ir/lib/modules/$rel"
        echo "$rel" >>"$ir/etc/modules.order"
    done
done
[ -s "$ir/etc/modules.order" ] || die "no modules found for ${modules[*]} in $kernel_pkg"
mknod -m 0600 "$ir/dev/console" c 5 1
mknod -m 0666 "$ir/dev/null" c 1 3
find "$ir" -exec touch -h -d "@$epoch" {} +
irroot="$work/root-forge-initramfs"
mkdir -p "$irroot/boot"
(cd "$ir" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    | gzip -9 -n >"$irroot/boot/initrd.img-$kver"
DEPENDS=("$kernel_pkg"); make_archive forge-initramfs "1.0+${kernel_version//:/_}" core "$irroot"

# --- forge-test-init -----------------------------------------------------------
ti="$work/root-forge-test-init"
mkdir -p "$ti/sbin"
install -m 0755 "$src/init/root/sbin/init" "$ti/sbin/init"
DEPENDS=(base-layout busybox-static); make_archive forge-test-init 1.0 core "$ti" "$src/init/INSTALL"

# --- publish -------------------------------------------------------------------
echo "$stamp" >"$new/.stamp"
{
    echo "kernel_package=$kernel_pkg"
    echo "kernel_version=$kver"
    echo "grub_version=$grub_version"
} >"$new/boot-payload.env"
rm -rf "$out.old"
[ -d "$out" ] && mv "$out" "$out.old"
mv "$new" "$out"
rm -rf "$out.old"
sign_payload
