#!/bin/bash
# vm-options: --disk 64M --disk 512M
# lvm-thin.sh on the kernel's dm-thin: LVM must see the same on both.
exec bash "$(dirname "$0")/lvm-thin.sh" kernel
