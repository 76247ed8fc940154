import re

import pytest

from strangler.service.converters import ResourceIdConverter


def _matches(raw: str) -> bool:
    # Django anchors a converter's regex to the whole path segment.
    return re.fullmatch(ResourceIdConverter.regex, raw) is not None


def test_an_id_becomes_an_int_and_back():
    converter = ResourceIdConverter()

    assert _matches("42")
    assert converter.to_python("42") == 42
    assert converter.to_url(42) == "42"


def test_the_largest_id_of_eighteen_digits_fits_a_64_bit_column():
    assert _matches("9" * 18)
    assert ResourceIdConverter().to_python("9" * 18) < 2**63


@pytest.mark.parametrize("raw", ["1234567890123456789", "-1", "abc", "1.5", ""])
def test_ids_too_long_for_a_64_bit_column_or_not_numbers_do_not_match(raw):
    assert not _matches(raw)
