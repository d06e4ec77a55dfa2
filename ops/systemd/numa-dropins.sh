#!/usr/bin/env bash
# Writes, for every NUMA node of this machine, the drop-in that binds inference-fleet@<node> to it
# (<unit dir>/inference-fleet@<node>.service.d/numa.conf: NUMAMask=<node>), and prints the instance names.
# systemd cannot take the mask from the instance name itself (no specifiers in NUMAMask=).
# Usage: numa-dropins.sh [UNIT_DIR (default /etc/systemd/system)] [NODE_DIR (default /sys/devices/system/node)]
set -euo pipefail
unit_dir="${1:-/etc/systemd/system}"
node_dir="${2:-/sys/devices/system/node}"
found=0
for path in "$node_dir"/node[0-9]*; do
  [ -d "$path" ] || continue
  node="${path##*/node}"
  case "$node" in *[!0-9]*) continue ;; esac
  mkdir -p "$unit_dir/inference-fleet@$node.service.d"
  printf '# Written by numa-dropins.sh: this instance runs on NUMA node %s only.\n[Service]\nNUMAMask=%s\n' \
    "$node" "$node" > "$unit_dir/inference-fleet@$node.service.d/numa.conf"
  echo "inference-fleet@$node.service"
  found=1
done
if [ "$found" = 0 ]; then
  echo "numa-dropins.sh: no node<N> directories in $node_dir" >&2
  exit 1
fi
