#!/usr/bin/env bash
# FORGE's main job: the wizard installing the bundled demo payload through
# the real daemon into a disk-image file.
#
# PLACEHOLDER written by the foundation issue. The GUI issue replaces this
# script with the real demo once the wizard, the daemon and the test payload
# exist. Until then it says what it cannot do and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
cat >&2 <<'MSG'
scripts/demo.sh: the demo cannot run yet.

It is meant to start the FORGE daemon on a private system bus, build the
signed demo payload, and open the installation wizard, which installs that
payload into a disk-image file. The wizard and the end-to-end daemon are
not finished in this checkout, so nothing was started and nothing was
written.

What works today:
  cargo run -p forge-cli --bin forgectl -- validate data/examples/install.yaml
  sudo scripts/test.sh
MSG
exit 2
