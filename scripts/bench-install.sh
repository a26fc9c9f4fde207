#!/usr/bin/env bash
# Benchmark: the boot test payload installed into a disk image by FORGE
# against a plain shell-script install (scripts/shell-install.sh) of the same
# archives into the same kind of image, in the same run. Prints a Markdown
# table for docs/benchmarks.md ("## Install into an image").
#
#   scripts/bench-install.sh [RUNS]          (default 3 runs per installer and mode)
#
# Environment: PAYLOAD_DIR (default: <target>/forge-test-payload, built with
# scripts/build-test-payload.sh), MODES (default "efi bios"),
# BENCH_DROP_CACHES=1 (drop the page cache before every run; root only).
# Needs root (loop devices).
set -euo pipefail

die() { echo "bench-install: $*" >&2; exit 1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${1:-3}
case "$runs" in ''|*[!0-9]*|0) die "RUNS must be a positive number, not '$runs'" ;; esac
[ "$(id -u)" -eq 0 ] || die "needs root (loop devices)"
modes=${MODES:-efi bios}
target=${CARGO_TARGET_DIR:-$repo/target}
payload=${PAYLOAD_DIR:-$target/forge-test-payload}
if [ -z "${PAYLOAD_DIR:-}" ]; then
    bash "$here/build-test-payload.sh" "$payload" >/dev/null
fi
[ -d "$payload/packages" ] || die "no payload at $payload"

work=$(mktemp -d /var/tmp/forge-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
fresh_image() { rm -f "$work/disk.img"; truncate -s 2G "$work/disk.img"; }
drop_caches() {
    sync
    if [ -n "${BENCH_DROP_CACHES:-}" ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# One shell-script install; prints its wall time in seconds.
shell_run() {
    local mode=$1 t0 t1
    fresh_image
    drop_caches
    t0=$(now)
    FORGE_SHELL_INSTALL_QUIET=1 bash "$here/shell-install.sh" "$work/disk.img" "$payload" "$mode" \
        bench-host bench Europe/Berlin >/dev/null 2>"$work/shell.log" \
        || { cat "$work/shell.log" >&2; die "shell-install $mode failed"; }
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# ---------------------------------------------------------------------------
# FORGE RUN (to be completed when `forgectl install` into an image works
# end to end): start a private system bus + polkitd + forge-daemon with a
# config that has `payload: $payload`, `keyring: <target>/forge-test-payload-keys/keyring.asc`,
# `allow_image_targets: true`, `image_dir: $work`, then time
#   forgectl install plan.yaml --disk "$work/disk.img" \
#       --root-password-file F --user-password-file F
# with plan.yaml = { hostname: bench-host, user: bench, timezone: Europe/Berlin,
# boot: <mode>, filesystem: ext4, package_groups: [core, base] }.
# Print the wall time in seconds like shell_run, or nothing when FORGE cannot
# run here (the table then says "not measured").
# ---------------------------------------------------------------------------
forge_run() {
    return 0
}

sizes=$(du -cb "$payload"/packages/*.igos.tar.gz | tail -n 1 | cut -f1)
count=$(ls "$payload"/packages/*.igos.tar.gz | wc -l)
echo "Payload: $count archives, $((sizes / 1024 / 1024)) MiB compressed; $runs run(s) each; $(nproc) cores; $(date -u +%F)"
echo
echo "| mode | shell script (median s) | FORGE (median s) | FORGE / shell |"
echo "| --- | --- | --- | --- |"
for mode in $modes; do
    : >"$work/shell.times"
    : >"$work/forge.times"
    for _ in $(seq "$runs"); do
        shell_run "$mode" >>"$work/shell.times"
        forge_run "$mode" >>"$work/forge.times"
    done
    s=$(median <"$work/shell.times")
    if [ -s "$work/forge.times" ]; then
        f=$(median <"$work/forge.times")
        ratio=$(awk -v f="$f" -v s="$s" 'BEGIN { print f / s }')
        printf '| %s | %.2f | %.2f | %.2f |\n' "$mode" "$s" "$f" "$ratio"
    else
        printf '| %s | %.2f | not measured | - |\n' "$mode" "$s"
    fi
done
