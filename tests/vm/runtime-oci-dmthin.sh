#!/bin/bash
# vm-options: --disk 64M --disk 512M
# runtime-oci.sh on the kernel's dm-thin: the tool must behave the same on both.
POOL_TARGET=thin-pool THIN_TARGET=thin exec bash "$(dirname "$0")/runtime-oci.sh"
