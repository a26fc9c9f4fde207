#!/usr/bin/env bash
# Regenerates po/POTFILES (every file with translatable strings) and
# po/forge.pot (the message template) with xgettext:
#   Rust sources    tr("..."), trf("...", ..), gettext, ngettext
#   GtkBuilder .ui  translatable="yes"
#   data/*.policy   polkit action messages
#   data/*.desktop  Name, Comment, Keywords
#   data/*.metainfo.xml  AppStream summary and description
# The output is deterministic: file-only locations (no line numbers) and no
# POT-Creation-Date, so it changes only when a message changes.
#
#   scripts/update-pot.sh          rewrite po/POTFILES and po/forge.pot
#   scripts/update-pot.sh --check  exit 1 if they are stale (used by the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

mode=write
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v xgettext >/dev/null; then
  echo "update-pot.sh: xgettext not found; install gettext (scripts/setup-debian.sh)" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The files that hold translatable strings, sorted.
{
  find crates -path '*/target*' -prune -o -type f -name '*.rs' -print0 \
    | xargs -0 -r grep -l -E '\b(tr|trf|gettext|ngettext|dgettext|pgettext)\(' || true
  find crates data -path '*/target*' -prune -o -type f -name '*.ui' -print0 \
    | xargs -0 -r grep -l 'translatable="yes"' || true
  find data -type f \( -name '*.policy' -o -name '*.policy.in' -o -name '*.desktop' \
    -o -name '*.desktop.in' -o -name '*.metainfo.xml' -o -name '*.metainfo.xml.in' \) -print || true
} | grep -v -E '/tests?/' | sort -u > "$tmp/POTFILES"

# 2. One xgettext pass per kind of file, joined into one template.
common=(--package-name=forge --from-code=UTF-8 --add-location=file --sort-by-file
        --add-comments=TRANSLATORS: --force-po)
pot="$tmp/forge.pot"
grep -E '\.rs$' "$tmp/POTFILES" > "$tmp/rust" || true
grep -E '\.(ui|policy|policy\.in|metainfo\.xml|metainfo\.xml\.in)$' "$tmp/POTFILES" > "$tmp/its" || true
grep -E '\.desktop(\.in)?$' "$tmp/POTFILES" > "$tmp/desktop" || true

xgettext "${common[@]}" --language=C \
  --keyword=tr --keyword=trf:1 --keyword=gettext --keyword=ngettext:1,2 \
  --keyword=dgettext:2 --keyword=pgettext:1c,2 \
  -f "$tmp/rust" -o "$pot" 2> "$tmp/xgettext.log" || { cat "$tmp/xgettext.log" >&2; exit 1; }
if [ -s "$tmp/its" ]; then
  xgettext "${common[@]}" --join-existing -f "$tmp/its" -o "$pot"
fi
if [ -s "$tmp/desktop" ]; then
  xgettext "${common[@]}" --join-existing --language=Desktop -f "$tmp/desktop" -o "$pot"
fi
# No creation date: the template changes only when a message does.
sed -i -e '/^"POT-Creation-Date: /d' "$pot"

if [ "$mode" = check ]; then
  stale=0
  cmp -s "$tmp/POTFILES" po/POTFILES || { echo "po/POTFILES is stale" >&2; diff -u po/POTFILES "$tmp/POTFILES" >&2 || true; stale=1; }
  cmp -s "$pot" po/forge.pot || {
    echo "po/forge.pot is stale" >&2
    diff -u po/forge.pot "$pot" | head -60 >&2 || true
    stale=1
  }
  if [ "$stale" -ne 0 ]; then
    echo "Run scripts/update-pot.sh to regenerate po/POTFILES and po/forge.pot." >&2
    exit 1
  fi
  echo "po/POTFILES and po/forge.pot are current."
else
  cp "$tmp/POTFILES" po/POTFILES
  cp "$pot" po/forge.pot
  echo "wrote po/POTFILES ($(wc -l < po/POTFILES) files) and po/forge.pot ($(grep -c '^msgid ' po/forge.pot) messages)"
fi
