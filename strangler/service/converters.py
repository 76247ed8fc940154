"""Path converters shared by every backend's URLconf."""


class ResourceIdConverter:
    """Positive ids that fit a 64-bit column: a longer number is a 404, never a database error.

    Registered as `id` by the chassis (strangler.service.urls).
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
