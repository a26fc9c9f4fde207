#!/usr/bin/env bash
# Installs FORGE the way a distribution package would: release builds of the
# programs, the system-bus policy and activation file, the systemd unit, the
# polkit actions, compiled translations, man pages (rendered from the clap
# definitions by crates/forge-man), the desktop entry, AppStream metainfo and
# icons (translated from po/ with msgfmt at install time), and the example
# configuration as /etc/forge/forge-daemon.yaml (never over an existing one).
# docs/system-integration.md says why each file is there.
#
#   scripts/install.sh [--destdir DIR] [--prefix /usr] [--live] [--no-build]
#
#   --destdir DIR  stage everything below DIR (a package build, a live tree)
#   --prefix P     installation prefix (default /usr); the unit and the
#                  activation file are rewritten to P/libexec/forge-daemon.
#                  D-Bus and polkit read only /usr/share (and /etc): anything
#                  but /usr is for staging and inspection.
#   --live         also install the live medium's polkit rule
#                  (data/polkit/live/49-forge-live.rules): the live user's
#                  active session may install without a password.
#                  Never for an installed system.
#   --no-build     install the binaries already in <target>/release as they
#                  are (built by an earlier run); fails if one is missing.
#
# Each program is built with `cargo build --release -p <package>`, one
# package per command, so no test feature (fault-injection, autopilot,
# testkit) is unified in. FORGE_LOCALEDIR is set to P/share/locale for the
# build: forgectl and forge-daemon look their catalogs up there.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

destdir=""
prefix=/usr
live=0
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) destdir="${2:?--destdir needs a directory}"; shift 2 ;;
    --destdir=*) destdir="${1#*=}"; shift ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --live) live=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$prefix" in
  /*) prefix="${prefix%/}" ;;
  *) echo "install.sh: --prefix must be absolute" >&2; exit 2 ;;
esac
[ -n "$prefix" ] || prefix=/usr
if [ -n "$destdir" ]; then
  mkdir -p "$destdir"
  destdir="$(cd "$destdir" && pwd)"
fi
# The configuration directory: /etc for /usr (as distributions do), else
# below the prefix.
if [ "$prefix" = /usr ]; then sysconfdir=/etc; else sysconfdir="$prefix/etc"; fi

for tool in cargo msgfmt; do
  if ! command -v "$tool" >/dev/null; then
    echo "install.sh: $tool not found (scripts/setup-debian.sh, scripts/setup-rust.sh)" >&2
    exit 2
  fi
done
cargo="${CARGO:-cargo}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
localedir="$prefix/share/locale"

# The shipped programs: package, binary, where it goes.
programs=(
  "forge-cli forgectl bin"
  "forge-daemon forge-daemon libexec"
  "forge-gui forge-gui bin"
)
if [ -f crates/forge-tui/Cargo.toml ]; then
  programs+=("forge-tui forge-tui bin")
fi

# 1. Build (cargo does nothing for a package that is already fresh).
if [ "$build" -eq 1 ]; then
  for p in "${programs[@]}"; do
    read -r pkg _ _ <<< "$p"
    echo "== cargo build --release -p $pkg"
    FORGE_LOCALEDIR="$localedir" "$cargo" build --release -p "$pkg"
  done
fi
echo "== cargo build -p forge-man (the man page generator, not installed)"
"$cargo" build -q -p forge-man

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

d() { printf '%s%s' "$destdir" "$1"; }
# file MODE SRC DEST: one file, parent directories created as needed
# (existing ones keep their mode).
put() {
  mkdir -p "$(dirname "$(d "$3")")"
  install -m "$1" "$2" "$(d "$3")"
  echo "  $3"
}
# Rewrites the default /usr paths of a data file for another prefix.
relocate() {
  sed -e "s|/usr/libexec/forge-daemon|$prefix/libexec/forge-daemon|g" \
      -e "s|/etc/forge/|$sysconfdir/forge/|g" \
      -e "s|/usr/share/doc/forge/|$prefix/share/doc/forge/|g" "$1"
}

echo "== programs"
for p in "${programs[@]}"; do
  read -r _ bin dir <<< "$p"
  if [ ! -x "$target/release/$bin" ]; then
    echo "install.sh: $target/release/$bin is not built (run without --no-build)" >&2
    exit 1
  fi
  put 0755 "$target/release/$bin" "$prefix/$dir/$bin"
done

echo "== D-Bus, systemd, polkit"
put 0644 data/dbus/org.intergenos.Forge1.conf "$prefix/share/dbus-1/system.d/org.intergenos.Forge1.conf"
relocate data/dbus/org.intergenos.Forge1.service > "$stage/org.intergenos.Forge1.service"
put 0644 "$stage/org.intergenos.Forge1.service" "$prefix/share/dbus-1/system-services/org.intergenos.Forge1.service"
relocate data/systemd/forge-daemon.service > "$stage/forge-daemon.service"
put 0644 "$stage/forge-daemon.service" "$prefix/lib/systemd/system/forge-daemon.service"
put 0644 data/polkit/org.intergenos.forge.policy "$prefix/share/polkit-1/actions/org.intergenos.forge.policy"
if [ "$live" -eq 1 ]; then
  put 0644 data/polkit/live/49-forge-live.rules "$prefix/share/polkit-1/rules.d/49-forge-live.rules"
fi

echo "== configuration"
conf="$sysconfdir/forge/forge-daemon.yaml"
if [ -e "$(d "$conf")" ]; then
  echo "  $conf exists: kept (the example is $prefix/share/doc/forge/forge-daemon.yaml.example)"
else
  put 0644 data/forge-daemon.yaml.example "$conf"
fi
put 0644 data/forge-daemon.yaml.example "$prefix/share/doc/forge/forge-daemon.yaml.example"
put 0644 data/examples/install.yaml "$prefix/share/doc/forge/examples/install.yaml"
for doc in daemon.md system-integration.md install-yaml.md; do
  put 0644 "docs/$doc" "$prefix/share/doc/forge/$doc"
done

echo "== translations"
bash scripts/compile-po.sh "$stage/locale" >/dev/null
for mo in "$stage"/locale/*/LC_MESSAGES/forge.mo; do
  lang="$(basename "$(dirname "$(dirname "$mo")")")"
  put 0644 "$mo" "$localedir/$lang/LC_MESSAGES/forge.mo"
done

echo "== desktop entry, metainfo, icons"
msgfmt --desktop --template data/org.intergenos.Forge.desktop.in -d po \
  -o "$stage/org.intergenos.Forge.desktop"
put 0644 "$stage/org.intergenos.Forge.desktop" "$prefix/share/applications/org.intergenos.Forge.desktop"
msgfmt --xml --template data/org.intergenos.Forge.metainfo.xml -d po \
  -o "$stage/org.intergenos.Forge.metainfo.xml"
put 0644 "$stage/org.intergenos.Forge.metainfo.xml" "$prefix/share/metainfo/org.intergenos.Forge.metainfo.xml"
put 0644 data/icons/org.intergenos.Forge.svg "$prefix/share/icons/hicolor/scalable/apps/org.intergenos.Forge.svg"
put 0644 data/icons/org.intergenos.Forge-symbolic.svg "$prefix/share/icons/hicolor/symbolic/apps/org.intergenos.Forge-symbolic.svg"

echo "== man pages"
"$target/debug/forge-man" "$stage/man" >/dev/null
for page in "$stage"/man/*.[18]; do
  name="$(basename "$page")"
  put 0644 "$page" "$prefix/share/man/man${name##*.}/$name"
done

if [ -z "$destdir" ]; then
  echo "Installed. Reload the services that read these files:"
  echo "  systemctl daemon-reload && systemctl reload dbus"
fi
echo "install.sh: done (destdir '${destdir:-/}', prefix $prefix)"
