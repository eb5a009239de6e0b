/* SPDX-License-Identifier: GPL-2.0-only */
/* Descriptor hygiene for processes that enter a container (fds.c). */
#ifndef CTPOOL_FDS_H
#define CTPOOL_FDS_H

/*
 * Close every descriptor from 3 up except the n in keep. Returns 0, or -1
 * with errno set if some could not be closed.
 */
int close_fds_except(const int *keep, int n);

#endif
