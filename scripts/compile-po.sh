#!/usr/bin/env bash
# Compiles each language of po/LINGUAS (po/<lang>.po) into
# <OUTDIR>/<lang>/LC_MESSAGES/forge.mo, checking it with msgfmt --check
# (format placeholders, header). OUTDIR defaults to target/locale, where the
# tests and the demo point FORGE_LOCALEDIR.
#
#   scripts/compile-po.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/locale}"

if ! command -v msgfmt >/dev/null; then
  echo "compile-po.sh: msgfmt not found; install gettext (scripts/setup-debian.sh)" >&2
  exit 2
fi

langs=()
if [ -f po/LINGUAS ]; then
  while read -r line; do
    line="${line%%#*}"
    for l in $line; do langs+=("$l"); done
  done < po/LINGUAS
fi

for f in po/*.po; do
  [ -e "$f" ] || continue
  l="$(basename "$f" .po)"
  if ! printf '%s\n' "${langs[@]}" | grep -qx "$l"; then
    echo "compile-po.sh: warning: $f is not listed in po/LINGUAS; skipped" >&2
  fi
done

n=0
for l in "${langs[@]}"; do
  po="po/$l.po"
  if [ ! -f "$po" ]; then
    echo "compile-po.sh: po/LINGUAS lists $l but $po does not exist" >&2
    exit 1
  fi
  mkdir -p "$out/$l/LC_MESSAGES"
  msgfmt --check -o "$out/$l/LC_MESSAGES/forge.mo" "$po"
  n=$((n + 1))
done
echo "compiled $n catalog(s) into $out"
