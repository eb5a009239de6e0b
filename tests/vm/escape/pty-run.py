#!/usr/bin/python3
"""Run a shell command on a new pseudo-terminal, as the controlling terminal of
its session, as a user's interactive shell would be; print everything the
terminal showed and end with the command's exit status.
For tests/vm/runtime-escape-proc.sh: usage pty-run.py 'SHELL COMMAND'."""
import os
import pty
import sys

pid, master = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "-c", sys.argv[1]])
out = b""
while True:
    try:
        data = os.read(master, 4096)
    except OSError:  # EIO: no process holds the terminal any more
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("pty-run: status %d" % os.waitstatus_to_exitcode(status))
