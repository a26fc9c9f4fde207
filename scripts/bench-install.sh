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
# BENCH_DROP_CACHES=1 (drop the page cache before every run; root only),
# FORGE_BIN_DIR (forge-daemon + forgectl; default <target>/debug), KEYRING.
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
    # Signs with a test key (in <target>/forge-test-payload-keys/) when forgectl is built.
    if [ -x "${FORGE_BIN_DIR:-$target/debug}/forgectl" ]; then export FORGECTL="${FORGE_BIN_DIR:-$target/debug}/forgectl"; fi
    bash "$here/build-test-payload.sh" "$payload" >/dev/null
fi
[ -d "$payload/packages" ] || die "no payload at $payload"

work=$(mktemp -d /var/tmp/forge-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The same (test-only) password for both installers.
BENCH_PASSWORD=forge-bench-password
export FORGE_ROOT_PASSWORD=$BENCH_PASSWORD FORGE_USER_PASSWORD=$BENCH_PASSWORD
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
# FORGE RUN: a private system bus + polkitd (FORGE's policy; root is always
# authorized) + forge-daemon with a config allowing image targets, then
# `forgectl install` of a plan equivalent to the shell install. Needs the
# built binaries (cargo build -p forge-daemon -p forge-cli) in <target>/debug
# or FORGE_BIN_DIR, and a signed payload. When FORGE cannot run here,
# forge_run prints nothing and the reason goes to $work/forge.why (the table
# then says "not measured").
# ---------------------------------------------------------------------------
bin_dir=${FORGE_BIN_DIR:-$target/debug}
keyring=${KEYRING:-$target/forge-test-payload-keys/keyring.asc}
fdir="$work/forge"
forge_pids=()
forge_stop() {
    local i
    for ((i = ${#forge_pids[@]} - 1; i >= 0; i--)); do
        kill "${forge_pids[$i]}" 2>/dev/null || true
        wait "${forge_pids[$i]}" 2>/dev/null || true
    done
    forge_pids=()
}
trap 'forge_stop; rm -rf "$work"' EXIT

has_forge_name() {
    dbus-send --bus="$DBUS_SYSTEM_BUS_ADDRESS" --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q true
}

forge_start() {
    local socket="$fdir/system_bus_socket" b
    mkdir -p "$fdir/images" "$fdir/staging" "$fdir/state" "$fdir/pk/actions" "$fdir/pk/rules.d" "$fdir/pk/empty"
    for b in forge-daemon forgectl; do
        [ -x "$bin_dir/$b" ] || { echo "$bin_dir/$b is not built" >"$work/forge.why"; return 1; }
    done
    if [ ! -s "$payload/InterGenOS.db.sig" ] || [ ! -s "$keyring" ]; then
        echo "$payload is not signed or $keyring is missing (run the boot tests once, or set KEYRING)" >"$work/forge.why"
        return 1
    fi
    sed -e "s|@SOCKET@|$socket|" -e "s|@FORGE_CONF@|$repo/data/dbus/org.intergenos.Forge1.conf|" \
        >"$fdir/bus.conf" <<'BUSCONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=@SOCKET@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <include>@FORGE_CONF@</include>
</busconfig>
BUSCONF
    dbus-daemon --config-file="$fdir/bus.conf" --nofork --nopidfile >"$fdir/bus.log" 2>&1 &
    forge_pids+=($!)
    for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
    [ -S "$socket" ] || { echo "dbus-daemon did not start: $(cat "$fdir/bus.log")" >"$work/forge.why"; return 1; }
    # polkitd drops to its own user: it must reach the socket and its files.
    chmod 0755 "$work" "$fdir" "$fdir/pk" "$fdir/pk/actions" "$fdir/pk/rules.d" "$fdir/pk/empty"
    chmod 0777 "$socket"
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$socket"
    install -m 0644 "$repo/data/polkit/org.intergenos.forge.policy" "$fdir/pk/actions/"
    # polkitd reads its actions and rules from fixed paths: bind ours over
    # them in a private mount namespace (nothing leaks to the host).
    unshare --mount --propagation private sh -c '
        set -e
        mount --bind "$1/actions" /usr/share/polkit-1/actions
        mount --bind "$1/rules.d" /etc/polkit-1/rules.d
        if [ -d /usr/share/polkit-1/rules.d ]; then mount --bind "$1/empty" /usr/share/polkit-1/rules.d; fi
        exec /usr/lib/polkit-1/polkitd --no-debug' polkit "$fdir/pk" >"$fdir/polkit.log" 2>&1 &
    forge_pids+=($!)
    for _ in $(seq 150); do has_forge_name org.freedesktop.PolicyKit1 && break; sleep 0.1; done
    has_forge_name org.freedesktop.PolicyKit1 || { echo "polkitd did not start: $(tail -n 3 "$fdir/polkit.log")" >"$work/forge.why"; return 1; }
    cat >"$fdir/forge-daemon.yaml" <<DAEMONCONF
payload: $payload
keyring: $keyring
override_phrase: "I understand this system may be compromised"
staging_dir: $fdir/staging
allow_image_targets: true
image_dir: $fdir/images
accepted_plan: $fdir/state/install.yaml
DAEMONCONF
    "$bin_dir/forge-daemon" --config "$fdir/forge-daemon.yaml" >"$fdir/daemon.log" 2>&1 &
    forge_pids+=($!)
    for _ in $(seq 200); do has_forge_name org.intergenos.Forge1 && break; sleep 0.1; done
    has_forge_name org.intergenos.Forge1 || { echo "forge-daemon did not start: $(tail -n 5 "$fdir/daemon.log")" >"$work/forge.why"; return 1; }
    printf '%s\n' "$BENCH_PASSWORD" >"$fdir/root.pw"
    printf '%s\n' "$BENCH_PASSWORD" >"$fdir/user.pw"
    printf '%s\n' "Mok-$BENCH_PASSWORD" >"$fdir/sb.pw"
    chmod 600 "$fdir/root.pw" "$fdir/user.pw" "$fdir/sb.pw"
    touch "$fdir/ready"
}

# One FORGE install; prints its wall time in seconds (nothing when FORGE cannot run).
forge_run() {
    local mode=$1 t0 t1
    if [ ! -e "$fdir" ]; then forge_start || return 0; fi
    [ -e "$fdir/ready" ] || return 0
    cat >"$fdir/plan.yaml" <<PLAN
version: 1
hostname: bench-host
locale: en_US.UTF-8
keyboard: { layout: us, variant: "" }
timezone: Europe/Berlin
boot: $mode
filesystem: ext4
user: { name: bench, full_name: Bench User, admin: true }
package_groups: [core, base]
services: []
PLAN
    rm -f "$fdir/images/disk.img"
    truncate -s 2G "$fdir/images/disk.img"
    drop_caches
    t0=$(now)
    if ! "$bin_dir/forgectl" install "$fdir/plan.yaml" --disk "$fdir/images/disk.img" \
        --root-password-file "$fdir/root.pw" --user-password-file "$fdir/user.pw" \
        --secure-boot-password-file "$fdir/sb.pw" >"$fdir/install.log" 2>&1; then
        echo "forgectl install ($mode) failed: $(tail -n 5 "$fdir/install.log")" >"$work/forge.why"
        return 0
    fi
    t1=$(now)
    rm -f "$fdir/images/disk.img"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
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
        if [ -s "$work/forge.why" ]; then echo "FORGE not measured: $(cat "$work/forge.why")" >&2; fi
    fi
done
