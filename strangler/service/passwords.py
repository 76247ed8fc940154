"""Argon2id with the parameters OWASP's Password Storage Cheat Sheet recommends as a minimum
(19 MiB of memory, two passes, one lane): strong against GPU cracking, cheap enough that a
two-core machine serves bursts of logins. Django's own defaults (100 MiB, eight lanes) cost
several times more per login."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
