from strangler.errors import StranglerError


class K8sError(StranglerError):
    """The cluster spec or the gunicorn settings cannot be read, or the tree on disk is stale."""
