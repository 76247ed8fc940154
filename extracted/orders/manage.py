#!/usr/bin/env python
"""The orders service's manage.py: Django project `orderssvc`, running the shared `orders` domain
(and read copies of `accounts`' users and of the `catalog`, which carts and orders refer to)."""

import os
import sys
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderssvc.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
