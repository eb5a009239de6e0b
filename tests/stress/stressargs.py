# SPDX-License-Identifier: GPL-2.0-only
"""Command lines of the stress scripts (crashsim.py, hostile.py, powercut.py):
subcommands whose options are declared in one call each."""
import argparse


def commands():
    """An ArgumentParser and its subparsers; the subcommand given is a.cmd."""
    p = argparse.ArgumentParser()
    return p, p.add_subparsers(dest="cmd", required=True)


def add_options(p, required="", **defaults):
    """Options of parser p: each --name in required (space-separated) must be
    given; each keyword is an optional --name (underscores become dashes)
    whose value has the type of its default (int, float or str), or a flag
    when the default is False, or a string that may be missing when None.
    Returns p."""
    for name in required.split():
        p.add_argument(name, required=True)
    for key, default in defaults.items():
        name = "--" + key.replace("_", "-")
        if default is False:
            p.add_argument(name, action="store_true")
        elif default is None:
            p.add_argument(name)
        else:
            p.add_argument(name, type=type(default), default=default)
    return p
