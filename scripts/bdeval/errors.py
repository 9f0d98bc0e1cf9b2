"""One-line user errors and the CLI wrapper that prints them."""

import logging
import sys

from .tflog import HELP_LINE, VERBOSE_FLAG


class InputError(Exception):
    """A problem with a user-supplied file or value; the message names both."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__("{}: {}".format(self.path, problem))


def setup_logging(verbose=False):
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def run_cli(main, argv=None):
    """Run main(argv); turn InputError into 'error: FILE: PROBLEM' and exit status 2.

    Every script takes --verbose here: it is taken out of argv before main parses it (it was
    already read from sys.argv when bdeval was imported, see bdeval.tflog), and --help says so.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_help = "-h" in argv or "--help" in argv
    argv = [arg for arg in argv if arg != VERBOSE_FLAG]
    setup_logging()
    try:
        code = main(argv)
    except SystemExit as stop:
        if wants_help and not stop.code:
            sys.stdout.write(HELP_LINE)
        raise
    except InputError as err:
        sys.stderr.write("error: {}\n".format(err))
        sys.exit(2)
    sys.exit(code or 0)
