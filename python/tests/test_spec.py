import numpy as np
import pytest

from tfbridge_worker.errors import SpecError
from tfbridge_worker.spec import FIELDS, check_input, check_weights, resolve, weight_shapes

MINIMAL = {"units": 4, "inputShape": [10, 3]}


def test_every_default_is_made_explicit():
    resolved = resolve(MINIMAL)
    assert set(resolved) == set(FIELDS)
    assert resolved["recurrentActivation"] == "sigmoid"
    assert resolved["unitForgetBias"] is True
    assert resolved["kernelInitializer"] == "glorot_uniform"


@pytest.mark.parametrize(
    "spec, field, reason",
    [
        ({"inputShape": [10, 3]}, "units", "is required"),
        ({**MINIMAL, "units": 0}, "units", "between 1 and"),
        ({**MINIMAL, "units": 2.5}, "units", "integer"),
        ({**MINIMAL, "units": True}, "units", "integer"),
        ({**MINIMAL, "inputShape": [10]}, "inputShape", "list of 2 integers"),
        ({**MINIMAL, "inputShape": [10, 0]}, "inputShape[1]", "between 1"),
        ({**MINIMAL, "activation": "gelu"}, "activation", "one of tanh"),
        ({**MINIMAL, "returnSequences": "yes"}, "returnSequences", "true or false"),
        ({**MINIMAL, "unit": 3}, "unit", "not a spec field"),
    ],
)
def test_a_bad_spec_names_its_field(spec, field, reason):
    with pytest.raises(SpecError) as caught:
        resolve(spec)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_weight_shapes_follow_the_gate_layout():
    spec = resolve(MINIMAL)
    assert weight_shapes(spec) == {"kernel": (3, 16), "recurrentKernel": (4, 16), "bias": (16,)}
    assert "bias" not in weight_shapes(resolve({**MINIMAL, "useBias": False}))


def test_weights_and_input_are_checked_against_the_spec():
    spec = resolve(MINIMAL)
    good = {"kernel": np.zeros((3, 16), np.float32), "recurrentKernel": np.zeros((4, 16), np.float32), "bias": np.zeros(16, np.float32)}
    check_weights(spec, good)
    with pytest.raises(SpecError, match="weights.kernel: must have shape"):
        check_weights(spec, {**good, "kernel": np.zeros((16, 3), np.float32)})
    with pytest.raises(SpecError, match="weights.bias: is missing"):
        check_weights(spec, {k: v for k, v in good.items() if k != "bias"})
    with pytest.raises(SpecError, match="must be float32"):
        check_weights(spec, {**good, "bias": np.zeros(16, np.float64)})
    with pytest.raises(SpecError, match=r"input: must have shape \[batch, 10, 3\]"):
        check_input(spec, np.zeros((2, 10, 4), np.float32))
