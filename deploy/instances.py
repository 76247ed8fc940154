"""How many processes of each backend `make up` starts: `python deploy/instances.py` prints
`<NAME>_INSTANCES=N` for every backend of the plan (its `instances`, or the <NAME>_INSTANCES
variable that overrides it), which supervisord's programs read as their numprocs. The plan is
the proxy's (STRANGLER_ROOT, STRANGLER_PLAN), so nginx and supervisord count alike."""

import sys

from strangler.errors import StranglerError
from strangler.plan import instances_var_for
from strangler.proxy.site import Site


def main() -> int:
    try:
        plan = Site.from_env().load_plan()
    except StranglerError as error:
        print(f"instances: {error}", file=sys.stderr)
        return 1
    for name, backend in plan.backends.items():
        print(f"{instances_var_for(name)}={backend.instances}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
