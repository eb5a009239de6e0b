#!/bin/bash
# vm-options: --disk 64M --disk 512M
# cli-usage.sh on the kernel's dm-thin: the same numbers, the same snapshot
# handling.
POOL_TARGET=thin-pool THIN_TARGET=thin exec bash "$(dirname "$0")/cli-usage.sh"
