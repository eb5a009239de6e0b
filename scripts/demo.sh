#!/bin/sh
# `make demo`: boot a guest and show, step by step, the module loading and the
# thin-provisioning lifecycle (scripts/demo-guest.sh does the work in the guest).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
echo "demo: booting the Debian kernel in QEMU (TCG); the guest runs scripts/demo-guest.sh"
exec "$ROOT/qemu/run-vm.sh" --disk 1G --disk 1G "$ROOT/scripts/demo-guest.sh"
