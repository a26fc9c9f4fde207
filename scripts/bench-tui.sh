#!/usr/bin/env bash
# Benchmark: forge-tui's start — from launching the process in a terminal
# (a tmux pane, 80x24, on a private tmux server) to its first drawn screen
# (the welcome title visible in `tmux capture-pane`), and its resident memory
# at that moment (VmRSS) and at its peak so far (VmHWM, /proc/PID/status).
# Next to it, when built, the GUI's own measurement (FORGE_GUI_BENCH=1 of
# forge-gui-autopilot under Xvfb, crates/forge-gui/src/bench.rs) in the same
# run. Prints a Markdown table for docs/benchmarks.md ("## Text frontend start").
#
#   scripts/bench-tui.sh [RUNS]        (default 5; the table shows every run)
#
# Environment: FORGE_BIN_DIR (default <target>/debug: forge-tui,
# forge-gui-autopilot), NO_GUI=1 (skip the GUI rows), TUI_ARGS (extra
# arguments, e.g. --dry-run).
#
# forge-tui's own measurement (FORGE_TUI_BENCH=FILE: the kernel's start of
# the process to the first drawn frame, like the GUI's) is shown next to it.
# The outside time includes tmux starting the
# process (fork+exec in the pane, a few ms) and the
# polling interval of capture-pane (each poll is one `tmux` client run,
# about 2–4 ms here): it is an upper bound of start-to-first-frame.
# forge-tui runs without a daemon (no system bus here): the welcome screen
# needs none; the disk and group lists are read in the background.
set -euo pipefail

die() { echo "bench-tui: $*" >&2; exit 1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${1:-5}
case "$runs" in ''|*[!0-9]*|0) die "RUNS must be a positive number, not '$runs'" ;; esac
target=${CARGO_TARGET_DIR:-$repo/target}
bin_dir=${FORGE_BIN_DIR:-$target/debug}
tui="$bin_dir/forge-tui"
[ -x "$tui" ] || die "$tui is not built (cargo build -p forge-tui)"
command -v tmux >/dev/null || die "tmux is missing (scripts/setup-debian.sh)"
title="Welcome to InterGenOS"

work=$(mktemp -d /tmp/forge-bench-tui.XXXXXX)
sock="$work/tmux.sock"
printf 'set -g status off\nset -g remain-on-exit on\nset -g exit-empty off\n' >"$work/tmux.conf"
t() { tmux -S "$sock" "$@"; }
cleanup() { t kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# A server with an idle pane, so starting the server is not timed.
env -i PATH="$PATH" tmux -S "$sock" -f "$work/tmux.conf" new-session -d -x 80 -y 24 -s idle sleep 3600

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status" 2>/dev/null || true; }

mib() { echo "$(($1 / 1024)).$(( ($1 % 1024) * 10 / 1024 )) MiB"; }
rows=()
# measure LABEL CMD...: one run of CMD in a new 80x24 window.
measure() {
    local label=$1; shift
    local start pane id pid seen deadline rss hwm rss1 inproc
    start=$(now_ms)
    : >"$work/bench.txt"
    pane=$(t new-window -d -P -F '#{pane_id} #{pane_pid}' -e LANG=C.UTF-8 -e TERM=tmux-256color \
        -e HOME="$work" -e FORGE_TUI_BENCH="$work/bench.txt" -- "$@")
    id=${pane%% *}
    pid=${pane##* }
    seen=""
    deadline=$((start + 20000))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        if t capture-pane -p -t "$id" | grep -qF "$title"; then
            seen=$(now_ms)
            break
        fi
    done
    [ -n "$seen" ] || die "no welcome screen after 20 s; the pane shows:
$(t capture-pane -p -t "$id")"
    rss=$(field VmRSS "$pid")
    hwm=$(field VmHWM "$pid")
    # One second later: the background lists have been read (or failed).
    sleep 1
    rss1=$(field VmRSS "$pid")
    t kill-window -t "$id"
    # forge-tui's own line (FORGE_TUI_BENCH, crates/forge-tui/src/bench.rs).
    inproc=$(sed -n 's/.*first_frame_ms=\([0-9.]*\).*/\1 ms/p' "$work/bench.txt" | head -1)
    rows+=("| $label | $((seen - start)) ms | ${inproc:-—} | $(mib "$rss") | $(mib "$hwm") | $(mib "$rss1") |")
    sleep 0.3
}

for i in $(seq "$runs"); do
    # shellcheck disable=SC2086
    measure forge-tui "$tui" ${TUI_ARGS:-}
done
# The floor of this method: a shell that prints the title at once.
for i in $(seq "$runs"); do
    measure "baseline: sh printing the title" sh -c "printf '%s' '$title'; exec sleep 60"
done

echo "| what | first screen (outside) | first frame (in-process) | resident (VmRSS) | peak (VmHWM) | resident after 1 s |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"

gui="$bin_dir/forge-gui-autopilot"
if [ -z "${NO_GUI:-}" ] && [ -x "$gui" ] && command -v xvfb-run >/dev/null; then
    for renderer in gl cairo; do
        for i in $(seq "$runs"); do
            line=$(GSK_RENDERER=$renderer FORGE_GUI_BENCH=1 xvfb-run -a dbus-run-session -- "$gui" 2>/dev/null \
                | grep 'forge-gui bench:' || true)
            ms=$(sed -n 's/.*first_frame_ms=\([0-9.]*\).*/\1/p' <<<"$line")
            mib=$(sed -n 's/.*rss_mib=\([0-9.]*\).*/\1/p' <<<"$line")
            echo "| forge-gui ($renderer) | | ${ms:-?} ms | ${mib:-?} MiB | | |"
        done
    done
fi
