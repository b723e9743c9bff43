"""Weights given by the caller reach every run mode, also for layers that snapshot their weights."""

import json

import keras
import numpy as np
import pytest

from tfbridge_worker.models.model import KerasModel

L = keras.layers


@pytest.mark.parametrize("mode", ["eager", "function", "session"])
def test_an_adapted_normalization_computes_with_the_given_mean_and_variance(mode):
    # Normalization copies its adapted weights into tensors when built (finalize_state); Keras's
    # set_weights alone leaves those copies at zeros and ones, so eager ran x unchanged while the
    # Session (which reads the variables) used the given weights.
    x = keras.Input((3,))
    config = json.loads(keras.Model(x, L.Normalization(name="norm")(x)).to_json())
    mean, variance = np.array([1.0, -2.0, 0.5], "float32"), np.array([4.0, 0.25, 1.0], "float32")
    model = KerasModel.from_config(config, {"norm": [mean, variance, np.array(7, "int64")]})
    xs = np.array([[3.0, 0.0, 0.5], [1.0, -2.0, 2.5]], "float32")
    _, (out,) = model.predict([xs], mode)
    np.testing.assert_allclose(out, (xs - mean) / np.sqrt(variance), rtol=1e-6)
