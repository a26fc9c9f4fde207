#!/usr/bin/env bash
# Builds FORGE's test live medium: a Debian 12 live root tree (mmdebstrap)
# with FORGE's binaries, data and the demo payload, then the hybrid ISO with
# forge-iso (crates/forge-iso, docs/live-medium.md).
#
#   scripts/build-live.sh [--tree-only]      (as root, after scripts/setup-debian.sh)
#
# Output (target/live/): forge-live.iso (the medium: dm-verity root hash
# sealed in its UKIs) and forge-live-dev.iso (a development medium of the
# same squashfs: no root hash, the SHA-256 fallback, signed with a second,
# "foreign" key), each with forge-iso's .manifest; tree/ (the live root tree
# given to forge-iso); keys/ (test Secure Boot keys db.* and foreign.*, made
# once; db.der is what the boot tests enroll as MOK).
#
# Steps and caches:
#   1. the Debian part of the tree (packages below, the live user with
#      autologin on ttyS0 and the live-session marker): mmdebstrap, cached in
#      /var/cache/forge-test/live-tree-<hash of step 1 of this script (the
#      package list and the hooks) and the mirror>; ~3 min, ~490 MB, once;
#   2. a copy of it in target/live/tree, into which FORGE is installed
#      (scripts/install.sh --destdir --live; by hand from target/release and
#      data/ only without install.sh), the live daemon configuration (the
#      medium's payload and its keyring) written;
#   3. forge-iso (FORGE_ISO, else target/release or target/debug/forge-iso)
#      makes both ISOs, the signed boot test payload (target/forge-test-payload,
#      when signed) in /payload/. Skipped when no input changed
#      (target/live/forge-live.inputs), so only a changed FORGE binary, payload,
#      init or forge-iso rebuilds the ISOs, and never re-runs mmdebstrap.
# --tree-only stops after step 2 (no ISO).
#
# Environment: SOURCE_DATE_EPOCH (default: the last commit's time, so two
# builds of the same commit agree); FORGE_LIVE_MIRROR (Debian mirror,
# default http://deb.debian.org/debian); CARGO_TARGET_DIR.
# Concurrent callers serialize on target/live.lock (flock).
set -euo pipefail

die() { echo "build-live: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
    exec sudo --preserve-env PATH="$PATH" HOME="$HOME" bash "$0" "$@"
fi
[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, device nodes in the tree)"
tree_only=no
case "${1:-}" in
--tree-only) tree_only=yes ;;
"") ;;
*) die "usage: $0 [--tree-only]" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
out="$target/live"
mkdir -p "$out"
exec 9>"$out.lock"
flock 9
mirror=${FORGE_LIVE_MIRROR:-http://deb.debian.org/debian}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 1700000000)
fi
export SOURCE_DATE_EPOCH

# --- 1. the Debian part ------------------------------------------------------
# The live user's name and the marker its login prints (tests/harness/qemu/live.rs).
live_user=live
packages=(
    systemd systemd-sysv dbus polkitd libpam-systemd udev kmod
    linux-image-cloud-amd64
    # the live initramfs takes busybox and veritysetup (+ its libraries) from the tree
    busybox-static cryptsetup-bin
    # FORGE's runtime libraries (forge-daemon, forgectl: nettle; forge-gui: GTK 4, libadwaita)
    libnettle8 libhogweed6 libgmp10 libgtk-4-1 libadwaita-1-0
    # what the daemon runs on the target
    util-linux fdisk parted dosfstools e2fsprogs
    # the daemon's system lists (/usr/share/i18n/SUPPORTED; xkb-data, tzdata come with the above)
    locales
    # root for the live user, as live media of other distributions give it
    # (tests/tests/live_install.rs: device-mapper and md refusals as root)
    sudo dmsetup mdadm
    # what the daemon runs on the live system (the target's own tools are in
    # the payload): the MOK key pair and GRUB's signature, the ESP, enrollment
    openssl sbsigntool grub-common mtools mokutil
    # the end-to-end test (tests/tests/live_install.rs): forge-tui in tmux,
    # forge-gui from its desktop entry (gio) on an X server without a screen
    tmux xvfb libglib2.0-bin fonts-dejavu-core
)
# Keyed by this section of the script (packages, hooks) and the mirror.
tree_key=$( {
    sed -n '/^# --- 1\./,/^# --- 2\./p' "${BASH_SOURCE[0]}"
    echo "$mirror"
} | sha256sum | cut -c1-16)
cache=/var/cache/forge-test/live-tree-$tree_key
if [ ! -f "$cache/.complete" ]; then
    echo "== mmdebstrap: Debian 12 live tree into $cache (once, ~3 min)"
    rm -rf "$cache" "$cache.partial"
    mkdir -p "$(dirname "$cache")"
    mmdebstrap --variant=minbase --mode=root --format=directory \
        --include="$(IFS=,; echo "${packages[*]}")" \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='echo forge-live >"$1/etc/hostname"' \
        --customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 forge-live\n" >"$1/etc/hosts"' \
        --customize-hook=': >"$1/etc/fstab"' \
        --customize-hook="chroot \"\$1\" useradd -m -s /bin/bash -c 'FORGE live user' $live_user" \
        --customize-hook="chroot \"\$1\" passwd -d $live_user" \
        --customize-hook="printf '$live_user ALL=(ALL) NOPASSWD: ALL\nDefaults:$live_user !use_pty\n' >\"\$1/etc/sudoers.d/live\"; chmod 0440 \"\$1/etc/sudoers.d/live\"" \
        --customize-hook='chroot "$1" passwd -l root' \
        --customize-hook='mkdir -p "$1/etc/systemd/system/serial-getty@ttyS0.service.d"' \
        --customize-hook="printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin $live_user --noclear --keep-baud 115200,57600,38400,9600 %%I \$TERM\n' >\"\$1/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf\"" \
        --customize-hook='mkdir -p "$1/etc/systemd/system/getty@tty1.service.d"' \
        --customize-hook="printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin $live_user --noclear %%I \$TERM\n' >\"\$1/etc/systemd/system/getty@tty1.service.d/autologin.conf\"" \
        --customize-hook='cat >"$1/etc/profile.d/forge-live.sh" <<"EOS"
# FORGE live session: once systemd has reached multi-user.target, the live
# user'"'"'s login on the serial console prints the live-session marker
# (tests/harness/qemu/live.rs waits for it).
if [ "$(tty)" = /dev/ttyS0 ] && [ -z "${FORGE_LIVE_MARKED:-}" ]; then
    export FORGE_LIVE_MARKED=1
    i=0
    while ! systemctl is-active --quiet multi-user.target && [ $i -lt 300 ]; do
        sleep 1; i=$((i + 1))
    done
    verity=no; for d in /sys/block/dm-*/dm/name; do [ -r "$d" ] && [ "$(cat "$d")" = live-root ] && verity=yes; done
    mode=live; for w in $(cat /proc/cmdline); do case $w in igos.mode=*) mode=${w#igos.mode=} ;; esac; done
    medium=no; [ -f /run/live/medium/live/filesystem.squashfs ] && medium=yes
    echo "FORGE-LIVE-SESSION user=$(id -un) target=$(systemctl is-active multi-user.target) mode=$mode verity=$verity medium=$medium root=$(findmnt -no FSTYPE /)"
fi
EOS' \
        --customize-hook='rm -f "$1/etc/machine-id" "$1/var/lib/dbus/machine-id"; : >"$1/etc/machine-id"' \
        --customize-hook='rm -rf "$1/var/cache/apt/"*.bin "$1/var/lib/apt/lists/"*' \
        bookworm "$cache.partial" "$mirror"
    touch "$cache.partial/.complete"
    mv "$cache.partial" "$cache"
fi

# --- 2. the tree with FORGE --------------------------------------------------
# FORGE itself: scripts/install.sh --destdir --live (release builds, data,
# translations, man pages, desktop entry). With FORGE_LIVE_NO_BUILD=1 (the
# boot tests: no cargo inside cargo test) it installs the release binaries
# already built (--no-build). Without install.sh, or with FORGE_LIVE_NO_BUILD
# and a release binary missing: the binaries there and data/ by hand; a
# missing binary is left out.
install_sh="$repo/scripts/install.sh"
use_install_sh=no
install_args=(--live)
if [ -f "$install_sh" ] && grep -q -- '--destdir' "$install_sh"; then
    if [ -z "${FORGE_LIVE_NO_BUILD:-}" ]; then
        use_install_sh=yes
    elif [ -x "$target/release/forge-daemon" ] && [ -x "$target/release/forgectl" ] &&
        [ -x "$target/release/forge-gui" ] && [ -x "$target/release/forge-tui" ]; then
        use_install_sh=yes
        install_args+=(--no-build)
    fi
fi
# FORGE_LIVE_GUI=FILE (tests only: the wizard built with its autopilot,
# forge-gui-autopilot) replaces /usr/bin/forge-gui in the tree, so the test
# starts it from the installed desktop entry. Never for a medium to ship.
live_gui=${FORGE_LIVE_GUI:-}
[ -z "$live_gui" ] || [ -x "$live_gui" ] || die "FORGE_LIVE_GUI=$live_gui is not an executable"
forge_bins=()
if [ "$use_install_sh" = no ]; then
    for b in forge-daemon forgectl forge-gui forge-tui; do
        if [ -x "$target/release/$b" ]; then
            forge_bins+=("$target/release/$b")
        else
            echo "build-live: note: $target/release/$b is not built (cargo build --release -p ...): not in the tree" >&2
        fi
    done
fi
# The signed boot test payload (scripts/build-test-payload.sh + the harness's
# signing, tests/harness/test_payload.rs) goes to /payload/ on the medium.
payload="$target/forge-test-payload"
payload_args=()
# The keyring that verifies it (FORGE_LIVE_KEYRING, else the test payload's
# public keyring beside it): /usr/share/forge/release-keys.asc in the tree.
payload_keyring=${FORGE_LIVE_KEYRING:-}
if [ -f "$payload/intergenos-archive-manifest.txt.asc" ]; then
    payload_args=(--payload "$payload")
    if [ -z "$payload_keyring" ] && [ -f "$target/forge-test-payload-keys/keyring.asc" ]; then
        payload_keyring="$target/forge-test-payload-keys/keyring.asc"
    fi
else
    echo "build-live: note: no signed payload in $payload: the medium carries none" >&2
fi
forge_iso=${FORGE_ISO:-}
if [ -z "$forge_iso" ]; then
    for p in "$target/release/forge-iso" "$target/debug/forge-iso"; do
        if [ -x "$p" ]; then forge_iso=$p; break; fi
    done
fi
tree="$out/tree"
make_tree() {
    echo "== live tree: $tree (copy of $cache + FORGE)"
    rm -rf "$tree"
    cp -a "$cache" "$tree"
    rm -f "$tree/.complete"
    # Smaller squashfs, faster builds and SHA-256 checks: Debian's initramfs
    # (the medium has its own, in the UKIs) and other programs' translations.
    rm -f "$tree"/boot/initrd.img-*
    find "$tree/usr/share/locale" -name '*.mo' ! -name forge.mo -delete
    if [ "$use_install_sh" = yes ]; then
        bash "$install_sh" --destdir "$tree" "${install_args[@]}"
    else
        install_by_hand
    fi
    # The live session's daemon configuration: the payload is the one on the
    # medium (mounted at /run/live/medium by the live init), verified with
    # the keyring that signed it.
    sed -e 's|^payload: .*|payload: /run/live/medium/payload|' \
        "$repo/data/forge-daemon.yaml.example" >"$tree/etc/forge/forge-daemon.yaml"
    if [ -n "$payload_keyring" ]; then
        install -D -m 0644 "$payload_keyring" "$tree/usr/share/forge/release-keys.asc"
    fi
    if [ -n "$live_gui" ]; then
        objcopy --strip-debug "$live_gui" "$tree/usr/bin/forge-gui"
        chmod 0755 "$tree/usr/bin/forge-gui"
    fi
}
install_by_hand() {
    for b in "${forge_bins[@]}"; do
        case $b in
        */forge-daemon) install -D -m 0755 "$b" "$tree/usr/libexec/forge-daemon" ;;
        *) install -D -m 0755 "$b" "$tree/usr/bin/$(basename "$b")" ;;
        esac
    done
    install -D -m 0644 "$repo/data/dbus/org.intergenos.Forge1.conf" "$tree/usr/share/dbus-1/system.d/org.intergenos.Forge1.conf"
    install -D -m 0644 "$repo/data/dbus/org.intergenos.Forge1.service" "$tree/usr/share/dbus-1/system-services/org.intergenos.Forge1.service"
    install -D -m 0644 "$repo/data/polkit/org.intergenos.forge.policy" "$tree/usr/share/polkit-1/actions/org.intergenos.forge.policy"
    install -D -m 0644 "$repo/data/systemd/forge-daemon.service" "$tree/usr/lib/systemd/system/forge-daemon.service"
    if [ -f "$repo/data/polkit/live/49-forge-live.rules" ]; then
        install -D -m 0644 "$repo/data/polkit/live/49-forge-live.rules" "$tree/usr/share/polkit-1/rules.d/49-forge-live.rules"
    fi
    install -D -m 0644 "$repo/data/forge-daemon.yaml.example" "$tree/etc/forge/forge-daemon.yaml"
    if [ -d "$target/locale" ]; then
        mkdir -p "$tree/usr/share/locale"
        cp -a "$target/locale/." "$tree/usr/share/locale/"
    fi
}
if [ "$tree_only" = yes ]; then
    make_tree
    echo "tree: $tree"
    exit 0
fi

# --- 3. the ISOs -------------------------------------------------------------
# forge-live.iso: the medium (dm-verity root hash sealed in its UKIs), signed
#   with keys/db.{key,crt} (tests enroll keys/db.der as MOK);
# forge-live-dev.iso: a development medium (forge-iso --dev-uki: no root hash,
#   the SHA-256 fallback) of the same squashfs, signed with keys/foreign.*, a
#   key no test enrolls: under Secure Boot it is the "foreign key" medium.
# Rebuilt only when an input changed (target/live/forge-live.inputs).
if [ -z "$forge_iso" ] && [ -z "${FORGE_LIVE_NO_BUILD:-}" ] && command -v cargo >/dev/null; then
    echo "== cargo build --release -p forge-iso"
    (cd "$repo" && cargo build --release -p forge-iso)
    forge_iso="$target/release/forge-iso"
fi
[ -x "$forge_iso" ] || die "no forge-iso binary: cargo build -p forge-iso (or set FORGE_ISO)"
keys="$out/keys"
mkdir -p "$keys"
for k in db foreign; do
    if [ ! -s "$keys/$k.crt" ]; then
        openssl req -new -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -subj "/CN=FORGE live test signing key ($k)/" \
            -keyout "$keys/$k.key" -out "$keys/$k.crt" 2>/dev/null
        openssl x509 -in "$keys/$k.crt" -outform DER -out "$keys/$k.der"
    fi
done
iso="$out/forge-live.iso"
dev_iso="$out/forge-live-dev.iso"
boot_hint() {
    echo "Boot the live medium (BIOS, as a CD-ROM; the live user logs in on the serial console; Ctrl-A X quits):"
    echo "  qemu-system-x86_64 -accel tcg -m 2048 -machine pc -nographic -cdrom $iso"
}
inputs=$( {
    echo "tree $tree_key sde $SOURCE_DATE_EPOCH install_sh $use_install_sh ${install_args[*]}"
    sed -n '/^# --- 2\./,$p' "${BASH_SOURCE[0]}"
    # (contents only: the same forge-iso from another path is the same input)
    for f in "${forge_bins[@]}" "$forge_iso" "$keys"/*.crt $payload_keyring $live_gui; do echo "$(basename "$f") $(sha256sum <"$f")"; done
    [ "$use_install_sh" = no ] || { sha256sum "$install_sh"; (cd "$target/release" && sha256sum forgectl forge-daemon forge-gui forge-tui 2>/dev/null) || true; }
    # data/, and what install.sh builds or copies from po/ and docs/
    (cd "$repo" && find data po docs -type f -print0 | sort -z | xargs -0 sha256sum)
    [ ! -d "$target/locale" ] || (cd "$target" && find locale -type f -print0 | sort -z | xargs -0 sha256sum)
    [ ${#payload_args[@]} -eq 0 ] || (cd "$payload" && find . -type f ! -name .stamp -print0 | sort -z | xargs -0 sha256sum)
} | sha256sum | cut -d' ' -f1)
if [ -s "$iso" ] && [ -s "$dev_iso" ] && [ "$(cat "$out/forge-live.inputs" 2>/dev/null)" = "$inputs" ]; then
    echo "== $iso and $dev_iso are up to date"
    boot_hint
    exit 0
fi
rm -f "$out/forge-live.inputs"
make_tree
echo "== forge-iso: $iso"
"$forge_iso" build --tree "$tree" --key "$keys/db.key" --cert "$keys/db.crt" \
    "${payload_args[@]}" --output "$iso" --source-date-epoch "$SOURCE_DATE_EPOCH"
echo "== forge-iso --dev-uki: $dev_iso (same squashfs, foreign key)"
squashfs="$out/filesystem.squashfs"
rm -f "$squashfs"
xorriso -osirrox on -indev "$iso" -extract /live/filesystem.squashfs "$squashfs" >/dev/null 2>&1 ||
    die "cannot extract /live/filesystem.squashfs from $iso"
"$forge_iso" build --tree "$tree" --key "$keys/foreign.key" --cert "$keys/foreign.crt" \
    "${payload_args[@]}" --squashfs "$squashfs" --dev-uki --output "$dev_iso" \
    --source-date-epoch "$SOURCE_DATE_EPOCH"
rm -f "$squashfs"
echo "$inputs" >"$out/forge-live.inputs"
echo "== done: $iso, $dev_iso"
boot_hint
