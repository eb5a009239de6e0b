// SPDX-License-Identifier: GPL-2.0-only
/* ctpool: thin-provisioned volumes and containers on a dm thin pool. */
#include "commands.h"
#include "common/cli.h"
#include "common/ctpool.h"
#include "runtime/sealed-exe.h"

#include <stdlib.h>
#include <string.h>

struct global G;

static int usage(FILE *f)
{
	fputs("usage: ctpool [global options] COMMAND [args]\n"
	      "\n"
	      "Pools:\n"
	      "  pool create NAME --metadata DEV|FILE --data DEV|FILE [--size SIZE] [options]\n"
	      "  pool status [NAME] [--json]     pool list [--json]\n"
	      "  pool resize NAME --data-size SIZE\n"
	      "  pool activate|deactivate|remove NAME    pool activate --all\n"
	      "Volumes:\n"
	      "  create NAME --size SIZE [--pool P]     snapshot ORIGIN NAME\n"
	      "  activate NAME    deactivate NAME    delete NAME    list [--json]\n"
	      "  gc [--dry-run]   recover\n"
	      "Images and containers:\n"
	      "  image import NAME ROOTFS.tar[.gz] [--size SIZE] [--parent IMG]\n"
	      "  image list [--json]    image rm NAME\n"
	      "  container create NAME --image IMG\n"
	      "  container run NAME [-t] [--memory M] [--cpus N] [--pids N] [--io-weight N]\n"
	      "                [--io-max SPEC] [--hostname H] -- CMD...\n"
	      "  container exec NAME [-t] -- CMD...    container stop NAME    container rm NAME\n"
	      "  container attach NAME VOLUME PATH [--block]    container detach NAME PATH\n"
	      "  container list [--json]\n"
	      "Metadata:\n"
	      "  meta check|dump|restore ...\n"
	      "\n"
	      "Global options (before COMMAND):\n"
	      "  --state-dir DIR       state store (default " CTPOOL_DEFAULT_STATE_DIR ", env CTPOOL_STATE_DIR)\n"
	      "  --pool-target NAME    dm target of the pool: ctpool (default) or thin-pool\n"
	      "                        (env CTPOOL_POOL_TARGET; stored with the pool at create)\n"
	      "  --thin-target NAME    dm target of volumes: ctthin (default) or thin\n"
	      "                        (env CTPOOL_THIN_TARGET)\n"
	      "  -v, --verbose         debug output on stderr (twice: libdevmapper too)\n"
	      "  -q, --quiet           no progress messages\n"
	      "\n"
	      "Each command has --help. Exit status: 0 ok, 1 error, 2 usage error.\n"
	      "See ctpool(8).\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int main(int argc, char **argv)
{
	G.state_dir = getenv("CTPOOL_STATE_DIR");
	if (!G.state_dir || !*G.state_dir)
		G.state_dir = CTPOOL_DEFAULT_STATE_DIR;
	G.pool_target = getenv("CTPOOL_POOL_TARGET");
	G.thin_target = getenv("CTPOOL_THIN_TARGET");
	if (G.pool_target && !*G.pool_target)
		G.pool_target = NULL;
	if (G.thin_target && !*G.thin_target)
		G.thin_target = NULL;

	enum { OPT_STATE_DIR = 256, OPT_POOL_TARGET, OPT_THIN_TARGET, OPT_VERSION };
	static const struct option options[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "pool-target", required_argument, NULL, OPT_POOL_TARGET },
		{ "thin-target", required_argument, NULL, OPT_THIN_TARGET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, OPT_VERSION },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	struct cli cl;
	int opt;
	/* the options before COMMAND; the first argument is COMMAND */
	cli_init(&cl, argc, argv, "-hvq", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1 && opt != CLI_ARG) {
		switch (opt) {
		case 'h':
			return usage(stdout);
		case OPT_VERSION:
			puts("ctpool 0.1");
			return EXIT_OK;
		case OPT_STATE_DIR:
			G.state_dir = optarg;
			break;
		case OPT_POOL_TARGET:
			G.pool_target = optarg;
			break;
		case OPT_THIN_TARGET:
			G.thin_target = optarg;
			break;
		case 'v':
			G.verbose++;
			break;
		case 'q':
			G.quiet = 1;
			break;
		default:
			err("unknown option '%s'", cl.arg);
			return usage(stderr);
		}
	}
	if (opt == -1)
		return usage(stderr);
	/* each command gets argv[0] = its name; meta the words after it */
	const char *cmd = argv[cl.at];
	int cargc = argc - cl.at;
	char **cargv = argv + cl.at;
	if (!strcmp(cmd, "meta"))
		return cmd_meta(cargc - 1, cargv + 1);

	/* run and exec start processes in a container: never from the host's binary */
	if (!strcmp(cmd, "container") && cargc > 1 && (!strcmp(cargv[1], "run") || !strcmp(cargv[1], "exec")) &&
	    sealed_exe_ensure(argv))
		return EXIT_ERR;
	dm_setup();
	static const struct {
		const char *name;
		command_fn *fn;
	} cmds[] = {
		{ "pool", cmd_pool },	  { "create", cmd_create }, { "snapshot", cmd_snapshot },
		{ "activate", cmd_activate }, { "deactivate", cmd_deactivate }, { "delete", cmd_delete },
		{ "list", cmd_list },	  { "gc", cmd_gc },	    { "recover", cmd_recover },
		{ "image", cmd_image },	  { "container", cmd_container },
	};
	for (size_t k = 0; k < ARRAY_SIZE(cmds); k++)
		if (!strcmp(cmd, cmds[k].name))
			return cmds[k].fn(cargc, cargv);
	err("unknown command '%s'", cmd);
	return usage(stderr);
}
