"""Waits until a URL answers 200, or fails after a bound: `python deploy/wait_for.py URL [SECS]`."""

import sys
import time
import urllib.error
import urllib.request


def main() -> int:
    url = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 60)
    last_error = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return 0
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.5)
    print(f"{url} did not become ready: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
