#!/bin/bash
# target-zeroing.sh on the kernel's dm-thin: the same writes must read back
# the same there (proves the test asserts dm-thin's behaviour).
exec bash "$(dirname "$0")/target-zeroing.sh" kernel
