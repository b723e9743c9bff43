"""Running Keras in a TF1-style ``tf.compat.v1.Session`` on TF 2, and explaining the trap when it goes wrong.

On TF 2 eager execution is on, so calling a Keras layer on a NumPy array or ``tf.constant`` returns an
``EagerTensor`` that already holds its values; ``tensor.eval(session=...)`` and ``sess.run(tensor)`` on it
fail with messages that do not say why. A Session can only run *symbolic* tensors, which exist only
inside an explicit ``tf.Graph()`` (or with eager execution disabled for the whole process).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from .errors import EagerTensorInSessionError

EAGER_TRAP = (
    "{what} is an eager tensor: on TensorFlow 2 a Keras call outside a tf.Graph runs at once and returns "
    "values, not a graph node, so a tf.compat.v1.Session cannot run it (tensor.eval(session=...) raises "
    "NotImplementedError, sess.run(tensor) fails). Either build the model inside `g = tf.Graph(); with "
    "g.as_default(): ...` with a placeholder input and run it with tf.compat.v1.Session(graph=g), or skip "
    "the Session and call .numpy() on the eager result."
)


def is_eager(value: Any) -> bool:
    return isinstance(value, tf.Tensor) and not tf.is_symbolic_tensor(value)


def session_run(session: tf.compat.v1.Session, fetches: Any, feed_dict: dict | None = None) -> Any:
    """``session.run`` that refuses eager fetches with an explanation instead of TF's bare error."""
    for i, fetch in enumerate(tf.nest.flatten(fetches)):
        if is_eager(fetch):
            raise EagerTensorInSessionError(EAGER_TRAP.format(what=f"fetch #{i} ({type(fetch).__name__})"))
    return session.run(fetches, feed_dict=feed_dict)


def unoptimized_config() -> tf.compat.v1.ConfigProto:
    """A Session config with Grappler (the meta optimizer) and the classic graph optimizer off: the
    graph then runs the ops as Keras wrote them, which is how parity tells a graph rewrite from a kernel."""
    config = tf.compat.v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    config.graph_options.optimizer_options.opt_level = tf.compat.v1.OptimizerOptions.L0
    config.graph_options.optimizer_options.do_constant_folding = False
    config.graph_options.optimizer_options.do_common_subexpression_elimination = False
    config.graph_options.optimizer_options.do_function_inlining = False
    return config


def new_session(graph: tf.Graph, optimize: bool = True) -> tf.compat.v1.Session:
    """A v1 Session over ``graph`` with its variables initialized; ``optimize=False``: no graph rewrites."""
    with graph.as_default():
        init = tf.compat.v1.global_variables_initializer()
    session = tf.compat.v1.Session(graph=graph, config=None if optimize else unoptimized_config())
    session.run(init)
    return session
