#!/usr/bin/env bash
# Makes sure a Rust toolchain new enough for the workspace (rust-version in
# Cargo.toml) is there with rustfmt and clippy. Uses rustup: installs it
# for the current user (root when called from setup-debian.sh) when there is
# no cargo, adds missing components, and when rustup cannot fetch them checks
# that they are usable anyway. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null && [ -f "${CARGO_HOME:-$HOME/.cargo}/env" ]; then
  # shellcheck disable=SC1091
  . "${CARGO_HOME:-$HOME/.cargo}/env"
fi
if ! command -v rustup >/dev/null; then
  # Debian 12's own rustc is older than the workspace needs.
  echo "setup-rust.sh: installing the stable Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --component rustfmt,clippy
  # shellcheck disable=SC1091
  . "${CARGO_HOME:-$HOME/.cargo}/env"
fi

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    rustup component add "$component" \
      || echo "setup-rust.sh: rustup could not fetch $component; checking whether it works anyway" >&2
  fi
done

need="$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
have="$(rustc --version | awk '{print $2}')"
if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  echo "setup-rust.sh: rustc $have is older than the workspace's rust-version $need; run: rustup update stable" >&2
  exit 1
fi
cargo --version
cargo fmt --version
cargo clippy --version
