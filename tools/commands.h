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

/* Every command's entry point. */
typedef int command_fn(int argc, char **argv);

/* volume/ */
command_fn cmd_pool, cmd_create, cmd_snapshot, cmd_activate, cmd_deactivate, cmd_delete, cmd_list,
	cmd_gc, cmd_recover;
/* runtime/ */
command_fn cmd_image, cmd_container;
/* meta/ */
command_fn cmd_meta;

#endif
