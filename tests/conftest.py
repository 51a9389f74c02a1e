"""Shared fixtures: run front-end tests on every backend; hypothesis profiles."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tensorcore as tc
from tensorcore import backend as tc_backend

settings.register_profile(
    "default", max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
settings.register_profile(
    "long", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
settings.load_profile("long" if os.environ.get("TENSORCORE_FUZZ") == "long" else "default")

BACKENDS = [b for b in os.environ.get("TENSORCORE_TEST_BACKENDS", "c,numba").split(",") if b]


def _selection(name: str):
    if name == "reference":
        from tensorcore.testing import reference_backend
        return reference_backend
    return name


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test once per backend, restoring the previous backend afterwards."""
    with tc_backend.using(_selection(request.param)):
        yield request.param


@pytest.fixture(autouse=True)
def _fresh_grad_mode():
    yield
    tc.autograd._set_grad_enabled(True)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    """Compare a Tensor/array with a NumPy expectation: same shape, dtype, values."""
    actual_data = actual.data if isinstance(actual, tc.Tensor) else np.asarray(actual)
    expected = np.asarray(expected)
    assert actual_data.shape == expected.shape, (actual_data.shape, expected.shape)
    assert actual_data.dtype == expected.dtype, (actual_data.dtype, expected.dtype)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual_data, expected)
    else:
        np.testing.assert_allclose(actual_data, expected, rtol=rtol, atol=atol, equal_nan=True)
