#!/usr/bin/env bash
# Print the Debian package names of the given groups from system-packages.txt
# (all groups when none is given). Usage: scripts/system-packages.sh runtime python
set -euo pipefail
list="$(dirname "$0")/../system-packages.txt"
awk -v want=" $* " 'NF >= 2 && $1 !~ /^#/ && (want == "  " || index(want, " " $2 " ")) { print $1 }' "$list"
