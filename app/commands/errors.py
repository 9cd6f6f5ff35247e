"""The one exception type a command raises to exit with one clear line on stderr."""


class CommandError(Exception):
    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code
