"""One exception type for the product's refusals (HackSoft's styleguide ApplicationError).

A service that refuses raises a subclass for its area (InvitationError, CodeError, ...);
`message` is the sentence shown to the person as it is, never re-worded on the way to the
page, and `code` a short reason for branches, logs and tests. Anything else raised is a bug.
"""


class ApplicationError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self):
        return f"{type(self).__name__}(code={self.code!r})"
