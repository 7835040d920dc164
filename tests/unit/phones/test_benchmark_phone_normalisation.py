"""Pure helpers of benchmarks/phone_normalisation.py's existing-warehouse mode
(benchmarks/phone_normalisation_warehouse.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat

from steward.phones import normalise_raw

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
BENCHMARK = BENCHMARKS / "phone_normalisation_warehouse.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("phone_normalisation_bench", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up in sys.modules while being defined.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _national(region: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.example_number(region), PhoneNumberFormat.NATIONAL
    )


def test_naive_reads_national_numbers_with_the_customers_country(bench):
    gb = _national("GB")
    assert bench.naive_is_valid(gb, "GB")
    # Steward's reading of the hint: case and padding do not matter, 'UK' means GB.
    assert bench.naive_is_valid(gb, " gb ")
    assert bench.naive_is_valid(gb, "UK")
    # Without a usable hint the national spelling is read as a US number, as Steward does.
    assert bench.naive_is_valid(gb, None) == normalise_raw(gb, None).is_valid


@pytest.mark.parametrize("raw", [None, "", "n/a", "123", "xxx-xxx-xxxx"])
def test_naive_never_raises_on_junk(bench, raw):
    assert bench.naive_is_valid(raw, "US") is False


def test_sample_percent(bench):
    assert bench.sample_percent(0, 1_000) is None
    assert bench.sample_percent(2_000_000, 1_500_000) is None
    percent = bench.sample_percent(2_000_000, 23_560_432)
    assert 8.0 < percent < 9.0
    # Asks for a margin, so a bernoulli draw lands at or above the wanted rows.
    assert percent / 100 * 23_560_432 >= 2_000_000
