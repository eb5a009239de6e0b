/* SPDX-License-Identifier: GPL-2.0-only */
/* Running from a sealed, anonymous copy of our own executable (sealed-exe.c). */
#ifndef CTPOOL_SEALED_EXE_H
#define CTPOOL_SEALED_EXE_H

/*
 * Make sure /proc/self/exe is a sealed memfd copy of the ctpool binary: if
 * it is not yet, copy it into one and re-execute it with argv and the same
 * environment (this call then does not return). Returns 0 when running from
 * the sealed copy, -1 (reported) if it cannot be done.
 */
int sealed_exe_ensure(char **argv);

#endif
