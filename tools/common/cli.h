/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool: the one way every command parses its arguments, getopt_long over
 * a table of options:
 *
 *	static const struct option create_options[] = {
 *		{ "size", required_argument, NULL, 's' },
 *		CLI_HELP_OPTION,
 *		{ NULL, 0, NULL, 0 },
 *	};
 *	struct cli cl;
 *	int opt;
 *
 *	cli_init(&cl, argc, argv, "-h", create_options, CLI_STRICT);
 *	while ((opt = cli_next(&cl)) != -1)
 *		switch (opt) { case 's': ... optarg ...; case CLI_ARG: ... cl.arg ... }
 *
 * argv[0] is the command's own name, as main's is the program's. The
 * optstring starts with '-': options and arguments come back in the order
 * given (an argument as CLI_ARG, in cl.arg), never permuted, so an option may
 * follow an argument and nothing after "--" is looked at. A long option's
 * value is "--opt V" or "--opt=V"; an unambiguous prefix names the option.
 *
 * Header-only: the meta library is linked without common (fuzzers, tests).
 */
#ifndef CTPOOL_CLI_H
#define CTPOOL_CLI_H

#include <getopt.h>
#include <string.h>

enum {
	CLI_ARG = 1,		/* an argument, not an option: cl.arg */
	/*
	 * ctpool's own commands (not meta's, which follow thin_check & co.):
	 * the word "help" asks for help ('h') wherever an argument may stand,
	 * and "-" or "--" is a bad argument ('?'); parsing goes on after it.
	 */
	CLI_STRICT = 1 << 0,
	/* "--" ends the options; what follows is a command line: c.rest */
	CLI_COMMAND = 1 << 1,
};

#define CLI_HELP_OPTION { "help", no_argument, NULL, 'h' }

struct cli {
	int argc;
	char **argv;
	const char *optstring;
	const struct option *options;
	int flags;
	int at;			/* argv[at]: the element cli_next just parsed */
	int after_dashdash;	/* no CLI_COMMAND: arguments after "--" */
	const char *arg;	/* argv[at]: the argument, or the bad element */
	char **rest;		/* CLI_COMMAND: after "--", NULL if nothing */
};

static inline void cli_init(struct cli *c, int argc, char **argv, const char *optstring,
			    const struct option *options, int flags)
{
	memset(c, 0, sizeof(*c));
	c->argc = argc;
	c->argv = argv;
	c->optstring = optstring;
	c->options = options;
	c->flags = flags;
	optind = 0;	/* glibc: start afresh, main's own parse came first */
	opterr = 0;	/* the command words its own messages */
}

/*
 * The next option's value (optarg holds its value), CLI_ARG, '?' for an
 * unknown option, a missing or unexpected value, or (CLI_STRICT) a bad
 * argument, cl.arg then naming it as given; -1 at the end.
 */
static inline int cli_next(struct cli *c)
{
	int opt;

	if (c->after_dashdash) {
		if (optind >= c->argc)
			return -1;
		c->at = optind++;
		c->arg = c->argv[c->at];
		return CLI_ARG;
	}
	/* getopt_long parses argv[optind] next, from its middle after "-tx"'s t */
	c->at = optind ? optind : 1;
	opt = getopt_long(c->argc, c->argv, c->optstring, c->options, NULL);
	c->arg = c->at < c->argc ? c->argv[c->at] : NULL;
	if (opt == -1 && c->arg) {	/* stopped at "--" */
		if (c->flags & CLI_COMMAND) {
			c->rest = optind < c->argc ? c->argv + optind : NULL;
			return -1;
		}
		if (c->flags & CLI_STRICT)
			return '?';
		c->after_dashdash = 1;
		return cli_next(c);
	}
	if (opt == CLI_ARG && (c->flags & CLI_STRICT)) {
		if (!strcmp(c->arg, "help"))
			return 'h';
		if (!strcmp(c->arg, "-"))
			return '?';
	}
	return opt;
}

/* An argument into the first empty one of n slots; -1 if all are taken. */
static inline int cli_take(const struct cli *c, const char **slots, int n)
{
	for (int i = 0; i < n; i++)
		if (!slots[i]) {
			slots[i] = c->arg;
			return 0;
		}
	return -1;
}

#endif
