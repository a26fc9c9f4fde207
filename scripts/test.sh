#!/usr/bin/env bash
# FORGE's test command (the README's): formatting, lints, unused
# dependencies, the translation catalogs, the release binaries (inspected for
# test machinery), then every test of the workspace under a virtual X server
# and a private session bus. With FORGE_TEST_STRICT=1 (as .ci/run sets it) a
# test that cannot run here fails instead of printing SKIP. The install
# tests need root (loop devices, mounts, a private system bus with polkitd),
# so this re-runs itself through sudo when started as another user. Output
# ends with cargo test's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env \
    PATH="$PATH" HOME="$HOME" \
    CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    bash "$0" "$@"
fi

# Under sudo, PATH may not hold the toolchain: look where setup-rust.sh puts it.
for cargo_home in "${CARGO_HOME:-$HOME/.cargo}" "$(getent passwd root | cut -d: -f6)/.cargo"; do
  if ! command -v cargo >/dev/null && [ -f "$cargo_home/env" ]; then
    # shellcheck disable=SC1091
    . "$cargo_home/env"
  fi
done
for tool in cargo xvfb-run dbus-run-session msgfmt; do
  if ! command -v "$tool" >/dev/null; then
    echo "test.sh: $tool not found; run scripts/setup-debian.sh (and .ci/run for the Rust toolchain)" >&2
    exit 2
  fi
done

target="${CARGO_TARGET_DIR:-$PWD/target}"
# Compiled catalogs for the translation tests and the binaries under test.
export FORGE_LOCALEDIR="$target/locale"

echo "== cargo fmt --all --check"
cargo fmt --all --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== translations"
bash scripts/compile-po.sh "$FORGE_LOCALEDIR"
# The shipped programs (and forge-iso, which scripts/build-live.sh runs),
# built as scripts/install.sh installs them: catalogs looked up in
# /usr/share/locale. Only these packages are selected and `cargo build` leaves
# dev-dependencies out, so no test feature (fault-injection, autopilot,
# testkit) is unified in; tests/tests/release_binaries.rs checks.
echo "== cargo build --release (forgectl, forge-daemon, forge-gui, forge-tui, forge-iso)"
FORGE_LOCALEDIR=/usr/share/locale \
  cargo build --release -p forge-cli -p forge-daemon -p forge-gui -p forge-tui -p forge-iso
echo "== cargo build (the binaries the D-Bus suites, GUI and TUI walks run, with their test features)"
# One package per command: with several, `--features pkg/feature` names the
# packages' self dev-dependencies, which `cargo build` leaves out.
cargo build -p forge-daemon --features fault-injection
cargo build -p forge-gui --features autopilot
cargo build -p forge-cli
cargo build -p forge-tui
echo "== cargo test --workspace"
exec xvfb-run -a dbus-run-session -- cargo test --workspace
