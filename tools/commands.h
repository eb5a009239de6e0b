/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The commands of the ctpool command line (main.c), one entry point each,
 * and the library that implements it. Each gets argv[0] = its own name
 * ("pool", "create"), as a subcommand gets it from its command's dispatch
 * ("create" from cmd_pool), and parses the rest with common/cli.h; cmd_meta
 * alone gets the words after "meta", as meta's own test harness calls it.
 */
#ifndef CTPOOL_COMMANDS_H
#define CTPOOL_COMMANDS_H

/* volume/ */
int cmd_pool(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_activate(int argc, char **argv);
int cmd_deactivate(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_recover(int argc, char **argv);
/* runtime/ */
int cmd_image(int argc, char **argv);
int cmd_container(int argc, char **argv);
/* meta/ */
int cmd_meta(int argc, char **argv);

#endif
