"""Contract testing support: a pytest plugin (`--base-url`), response normalisation and diffing.

The normaliser and differ are shared by the contract suite and by shadow traffic, which compares
two backends' answers to the same request.
"""

from strangler.contract.diff import (
    Difference,
    diff_bodies,
    diff_normalised,
    diff_responses,
    format_differences,
)
from strangler.contract.normalise import NormalisedResponse, Normaliser

__all__ = [
    "Difference",
    "NormalisedResponse",
    "Normaliser",
    "diff_bodies",
    "diff_normalised",
    "diff_responses",
    "format_differences",
]
