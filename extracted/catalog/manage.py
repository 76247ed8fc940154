#!/usr/bin/env python
"""The catalog service's manage.py: Django project `catalogsvc`, running the shared `catalog`
domain (and a read copy of `accounts`' users, for staff checks)."""

import os
import sys
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalogsvc.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
