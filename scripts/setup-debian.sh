#!/usr/bin/env bash
# Installs every Debian 12 package FORGE needs to build, test and run its demo.
# Idempotent; run as root (or through sudo).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E bash "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  # build
  build-essential pkg-config clang nettle-dev libgtk-4-dev libadwaita-1-dev gettext
  # bus, authorization, GUI tests
  dbus dbus-x11 polkitd pkexec xvfb xauth xdotool at-spi2-core python3-dogtail libxml2-utils
  # disks and filesystems
  fdisk util-linux dosfstools mtools e2fsprogs xfsprogs btrfs-progs udev kmod
  # bootloaders and secure boot
  grub-common grub2-common grub-efi-amd64-bin grub-pc-bin sbsigntool mokutil openssl efitools
  # boot tests
  ovmf qemu-system-x86 cpio busybox-static python3-pip python3-venv
  # the text frontend's walks (tests/harness/tmux.rs)
  tmux
  # the live medium (forge-iso, scripts/build-live.sh, tests/tests/live_*.rs)
  squashfs-tools xorriso cryptsetup-bin systemd-boot-efi mmdebstrap faketime
  shim-signed grub-efi-amd64-signed shim-helpers-amd64-signed
  # installing FORGE like a distribution (scripts/install.sh, tests/tests/install_layout.rs)
  desktop-file-utils appstream man-db groff-base
  # payload tooling and baselines
  gnupg gpgv coreutils tar gzip pigz zstd xz-utils file
  # translations
  locales tzdata xkb-data iso-codes
  # fetching the Rust toolchain (.ci/run)
  curl ca-certificates
  # tools used by tests
  procps psmisc systemd
  # boot test payload (scripts/build-test-payload.sh: apt-get download, dpkg-deb -x,
  # depmod/modprobe) and the boot tests (sbattach, partx, flock)
  apt dpkg kmod sbsigntool util-linux binutils
)
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"

# Locales: validation reads /usr/share/i18n/SUPPORTED; the translation tests
# and the demo run the GUI in English, German and Arabic.
if [ ! -f /usr/share/i18n/SUPPORTED ]; then
  echo "setup-debian.sh: /usr/share/i18n/SUPPORTED is missing after installing locales" >&2
  exit 1
fi
regen=0
for l in en_US de_DE ar_EG; do
  if ! locale -a 2>/dev/null | grep -qx "$l.utf8"; then
    sed -i "s/^# *\($l\.UTF-8 UTF-8\)/\1/" /etc/locale.gen
    grep -qx "$l.UTF-8 UTF-8" /etc/locale.gen || echo "$l.UTF-8 UTF-8" >> /etc/locale.gen
    regen=1
  fi
done
if [ "$regen" -eq 1 ]; then
  locale-gen
fi

# Secure Boot tests: python virt-firmware (PyPI only, not in Debian 12) for
# virt-fw-vars --add-mok (tests/harness/qemu.rs calls /opt/forge-venv/bin/virt-fw-vars).
if [ ! -x /opt/forge-venv/bin/virt-fw-vars ]; then
  python3 -m venv /opt/forge-venv
  /opt/forge-venv/bin/pip install --quiet virt-firmware
fi

# The Rust toolchain (rustup, with rustfmt and clippy).
bash "$(dirname "$0")/setup-rust.sh"
