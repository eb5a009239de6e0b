#!/bin/bash
# vm-options: --disk 64M --disk 512M
# runtime-escape-proc.sh on the kernel's dm-thin: the defences do not depend on the target.
POOL_TARGET=thin-pool THIN_TARGET=thin exec bash "$(dirname "$0")/runtime-escape-proc.sh"
