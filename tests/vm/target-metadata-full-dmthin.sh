#!/bin/bash
# target-metadata-full.sh on the kernel's dm-thin: the reference for ctpool.
exec bash "$(dirname "$0")/target-metadata-full.sh" kernel
