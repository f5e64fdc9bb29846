"""The one exception type for bad input: its message is the single line the command line prints."""


class GsaeError(ValueError):
    """Bad input from the user (a missing file, an unknown hook, an impossible option).

    The message names the file or option and says what is wrong, in one line.
    """
