#!/usr/bin/env bash
# FORGE's main demo: the GTK wizard installing a real, signed payload through
# the real daemon into a disk-image file.
#
#   scripts/demo.sh                 (as root on Debian 12, after scripts/setup-debian.sh)
#
# It builds the workspace, compiles the translations, then runs
# forge-demo-env (tests/src/bin/forge-demo-env.rs), which brings up a private
# system bus, polkitd (the demo user's group is allowed) and forge-daemon with
# the boot test payload signed by a key made on the spot, creates a 2 GiB
# image file and opens the wizard as the unprivileged user `forge-demo`.
#   - With a display (DISPLAY set, e.g. `sudo -E scripts/demo.sh` from your
#     desktop session) you walk the wizard yourself; choose the disk
#     "demo.img".
#   - Without one, the wizard runs under Xvfb and drives itself, saving a
#     screenshot of every screen to target/forge-demo/screens/.
# At the end it prints how to boot the installed image with QEMU.
# Set FORGE_DEMO_AUTOPILOT=1 to drive the wizard automatically even with a display.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=DISPLAY,XAUTHORITY,WAYLAND_DISPLAY,FORGE_DEMO_AUTOPILOT,CARGO_TARGET_DIR \
    PATH="$PATH" HOME="$HOME" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" \
    RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" bash "$0" "$@"
fi
for cargo_home in "${CARGO_HOME:-$HOME/.cargo}" "$(getent passwd root | cut -d: -f6)/.cargo"; do
  if ! command -v cargo >/dev/null && [ -f "$cargo_home/env" ]; then
    # shellcheck disable=SC1091
    . "$cargo_home/env"
  fi
done
for tool in cargo dbus-daemon /usr/lib/polkit-1/polkitd runuser msgfmt; do
  if ! command -v "$tool" >/dev/null && [ ! -x "$tool" ]; then
    echo "demo.sh: $tool not found; run scripts/setup-debian.sh first" >&2
    exit 2
  fi
done

target="${CARGO_TARGET_DIR:-$PWD/target}"
out="$target/forge-demo"
mkdir -p "$out"

echo "== building forge-gui, forge-daemon, forgectl and the demo environment"
# forge-gui's `autopilot` feature also builds forge-gui-autopilot (the
# wizard that drives itself, used when there is no display).
# One package per command: with several, `--features pkg/feature` would name
# forge-gui's self dev-dependency, which `cargo build` leaves out.
cargo build -p forge-gui --features autopilot
cargo build -p forge-daemon -p forge-cli -p forge-tests --bins
echo "== compiling translations"
bash scripts/compile-po.sh "$target/locale"
export FORGE_LOCALEDIR="$target/locale"

env_bin="$target/debug/forge-demo-env"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${FORGE_DEMO_AUTOPILOT:-}" ]; then
  echo "== opening the wizard on your display; choose the disk \"demo.img\""
  exec "$env_bin" --out "$out"
elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$env_bin" --out "$out" --autopilot "$out/screens"
else
  for tool in xvfb-run xdotool; do
    command -v "$tool" >/dev/null || { echo "demo.sh: $tool not found; run scripts/setup-debian.sh" >&2; exit 2; }
  done
  echo "== no display: running the wizard under Xvfb, driven automatically"
  echo "   screenshots of every screen go to $out/screens/"
  exec xvfb-run -a -s "-screen 0 1280x900x24" "$env_bin" --out "$out" --autopilot "$out/screens"
fi
