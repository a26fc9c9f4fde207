#!/bin/bash
# Benchmark of the pkm trust chain (issue 3), documented in docs/benchmarks.md.
#
# Generates (once, cached under target/bench-payload) a payload of >= 500
# archives and >= 1 GiB, signs it with gpg (a signing subkey under a
# certify-only primary, as a distributor would), then measures in ONE run,
# warm cache, on the same files:
#   forgectl payload verify   vs  sha256sum -c on the manifest
#   forgectl payload deploy   vs  for f in ...; do tar -xzf "$f" -C dir; done
# (deploy includes its own full verification; both extract into fresh
# directories on the same filesystem). Prints times and ratios.
#
# Usage: scripts/bench-payload.sh [ARCHIVES] [FILES_PER_ARCHIVE] [KIB_PER_FILE]
set -euo pipefail

cd "$(dirname "$0")/.."
ARCHIVES=${1:-520}
FILES=${2:-8}
KIB=${3:-448}
BENCH=${BENCH_DIR:-$PWD/target/bench-payload}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-payload}
FORGECTL=$CARGO_TARGET_DIR/release/forgectl

cargo build --release -q -p forge-cli
mkdir -p "$BENCH"
PAYLOAD=$BENCH/payload
STAMP=$BENCH/generated-$ARCHIVES-$FILES-$KIB

if [ ! -e "$STAMP" ]; then
    echo "generating $ARCHIVES archives x $FILES files x $KIB KiB in $PAYLOAD ..."
    rm -rf "$PAYLOAD" "$BENCH"/generated-* "$BENCH/gnupg"
    mkdir -p "$PAYLOAD/packages"
    # Package-like data, cheap to make: per 4 KiB block 2.5 KiB random bytes
    # and 1.5 KiB of a repeated pattern (compresses to ~62%, so inflate does
    # real work, as with binaries); gzip level 1.
    python3 - "$PAYLOAD/packages" "$ARCHIVES" "$FILES" "$KIB" <<'EOF'
import gzip, io, os, random, sys, tarfile
out, n, files, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(3)
pattern = (b"InterGenOS\x00\x01\x02\x03" * 200)[:1536]
def data(size):
    blocks = []
    for _ in range(size // 4096):
        blocks.append(rng.randbytes(2560))
        blocks.append(pattern)
    return b"".join(blocks)
tiers = ["core", "base", "desktop", "extra"]
for i in range(n):
    name = f"bench{i:04d}"
    tier = tiers[i % len(tiers)]
    payloads = [data(kib * 1024) for _ in range(files)]
    size = sum(len(p) for p in payloads)
    info = f"pkgname = {name}\npkgver = 1.0-1\ntier = {tier}\nsize = {size}\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        def add(path, blob, mode=0o644, kind=tarfile.REGTYPE):
            ti = tarfile.TarInfo(path); ti.size = len(blob); ti.mode = mode
            ti.mtime = 1700000000; ti.type = kind
            t.addfile(ti, io.BytesIO(blob) if blob else None)
        add(".PKGINFO", info)
        d = tarfile.TarInfo(f"usr/share/{name}"); d.type = tarfile.DIRTYPE; d.mode = 0o755; d.mtime = 1700000000
        t.addfile(d)
        for j, p in enumerate(payloads):
            add(f"usr/share/{name}/data{j}.bin", p)
    with open(os.path.join(out, f"{name}-1.0-1.igos.tar.gz"), "wb") as f:
        f.write(gzip.compress(raw.getvalue(), compresslevel=1, mtime=0))
EOF
    "$FORGECTL" payload build "$PAYLOAD"
    export GNUPGHOME=$BENCH/gnupg
    mkdir -p -m 700 "$GNUPGHOME"
    G() { gpg --batch --no-tty --pinentry-mode loopback --passphrase '' "$@"; }
    G --quick-gen-key 'FORGE Bench <bench@example.org>' ed25519 cert never
    FPR=$(G --with-colons --list-keys bench@example.org | awk -F: '/^fpr:/ {print $10; exit}')
    G --quick-add-key "$FPR" ed25519 sign never
    G --armor --export "$FPR" > "$BENCH/keyring.asc"
    G --yes --detach-sign --armor -o "$PAYLOAD/intergenos-archive-manifest.txt.asc" "$PAYLOAD/intergenos-archive-manifest.txt"
    G --yes --detach-sign --armor -o "$PAYLOAD/InterGenOS.db.sig" "$PAYLOAD/InterGenOS.db"
    gpgconf --kill gpg-agent
    unset GNUPGHOME
    touch "$STAMP"
fi

COUNT=$(ls "$PAYLOAD/packages" | wc -l)
BYTES=$(du -sb "$PAYLOAD/packages" | cut -f1)
echo "payload: $COUNT archives, $BYTES bytes ($(awk "BEGIN {printf \"%.2f\", $BYTES/1073741824}") GiB), $(nproc) cores"
[ "$COUNT" -ge 500 ] || { echo "need >= 500 archives" >&2; exit 1; }
[ "$BYTES" -ge 1073741824 ] || { echo "need >= 1 GiB" >&2; exit 1; }

# Warm the cache.
cat "$PAYLOAD"/packages/* > /dev/null

now() { date +%s.%N; }
timed() { # timed VAR command...
    local var=$1; shift
    sync
    local t0; t0=$(now)
    "$@"
    local t1; t1=$(now)
    printf -v "$var" '%s' "$(awk "BEGIN {printf \"%.3f\", $t1 - $t0}")"
}

OUT=$BENCH/out
rm -rf "$OUT"
REPS=${REPS:-3}
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a == "" || b < a) ? b : a}'; }
B_SHA=; B_VERIFY=; B_TAR=; B_DEPLOY=
# Interleaved repetitions (the machine may be shared): best of REPS each.
for rep in $(seq 1 "$REPS"); do
    mkdir -p "$OUT/tar" "$OUT/forge"
    timed T_SHA bash -c "cd '$PAYLOAD' && sha256sum -c --quiet intergenos-archive-manifest.txt"
    timed T_VERIFY "$FORGECTL" payload verify "$PAYLOAD" --keyring "$BENCH/keyring.asc"
    timed T_TAR bash -c "for f in '$PAYLOAD'/packages/*.igos.tar.gz; do tar -xzf \"\$f\" -C '$OUT/tar'; done"
    timed T_DEPLOY bash -c "'$FORGECTL' payload deploy '$PAYLOAD' --keyring '$BENCH/keyring.asc' --root '$OUT/forge' 2>/dev/null >/dev/null"
    # Sanity: same number of data files extracted both ways.
    N_TAR=$(find "$OUT/tar/usr" -type f | wc -l)
    N_FORGE=$(find "$OUT/forge/usr" -type f | wc -l)
    [ "$N_TAR" = "$N_FORGE" ] || { echo "file count differs: tar $N_TAR, forge $N_FORGE" >&2; exit 1; }
    echo "run $rep: sha256sum ${T_SHA}s verify ${T_VERIFY}s tar ${T_TAR}s deploy ${T_DEPLOY}s (load $(cut -d' ' -f1 /proc/loadavg))"
    B_SHA=$(best "$B_SHA" "$T_SHA"); B_VERIFY=$(best "$B_VERIFY" "$T_VERIFY")
    B_TAR=$(best "$B_TAR" "$T_TAR"); B_DEPLOY=$(best "$B_DEPLOY" "$T_DEPLOY")
    rm -rf "$OUT"
done
T_SHA=$B_SHA; T_VERIFY=$B_VERIFY; T_TAR=$B_TAR; T_DEPLOY=$B_DEPLOY

ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }
echo "best of $REPS:"
printf '%-42s %8ss\n' "sha256sum -c manifest" "$T_SHA"
printf '%-42s %8ss\n' "forgectl payload verify" "$T_VERIFY"
printf '%-42s %8sx\n' "  verify speed-up (target >= 4x)" "$(ratio "$T_SHA" "$T_VERIFY")"
printf '%-42s %8ss\n' "sequential tar -xzf" "$T_TAR"
printf '%-42s %8ss\n' "forgectl payload deploy (incl. verify)" "$T_DEPLOY"
printf '%-42s %8sx\n' "  deploy speed-up (target >= 1.5x)" "$(ratio "$T_TAR" "$T_DEPLOY")"
