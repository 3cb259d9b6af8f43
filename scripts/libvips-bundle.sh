#!/usr/bin/env bash
# Install the libvips build delivery runs on (pyvips-binary: libvips 8.18 with SIMD
# resampling) into its own folder, beside — not inside — site-packages; shared/libvips.py
# says why. Idempotent: does nothing when that version is already there.
#   scripts/libvips-bundle.sh PYTHON [FOLDER]     (FOLDER defaults to <prefix>/libvips-bundle)
set -euo pipefail
SPEC="pyvips-binary==8.18.7"
python=$1
target=${2:-$("$python" -c 'import sys; print(sys.prefix)')/libvips-bundle}
stamp="$target/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SPEC" ]; then exit 0; fi
rm -rf "$target"
"$python" -m pip install -q --no-deps --no-compile --target "$target" "$SPEC"
echo "$SPEC" > "$stamp"
