"""One-line user errors and the CLI wrapper that prints them."""
import logging
import sys


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
    """Run main(argv); turn InputError into 'error: FILE: PROBLEM' and exit status 2."""
    setup_logging()
    try:
        code = main(argv)
    except InputError as err:
        sys.stderr.write("error: {}\n".format(err))
        sys.exit(2)
    sys.exit(code or 0)
