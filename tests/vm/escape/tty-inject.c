/*
 * TIOCSTI from inside a container, for tests/vm/runtime-escape-proc.sh:
 * push "echo INJECTED" and a newline into the input queue of every terminal
 * the process can reach (its fds 0-2 and /dev/tty). If one of them is the
 * caller's terminal, the caller's shell reads the line after the container
 * is done. Prints, per target, "ok" or why the kernel refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *inject(int fd)
{
	static const char line[] = "echo INJECTED\n";
	for (size_t i = 0; i < sizeof(line) - 1; i++)
		if (ioctl(fd, TIOCSTI, &line[i]))
			return strerror(errno);
	return "ok";
}

int main(void)
{
	for (int fd = 0; fd <= 2; fd++)
		fprintf(stderr, "tiocsti fd %d: %s\n", fd, inject(fd));
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	fprintf(stderr, "tiocsti /dev/tty: %s\n", tty < 0 ? strerror(errno) : inject(tty));
	return 0;
}
