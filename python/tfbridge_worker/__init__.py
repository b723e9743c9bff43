"""The Python half of tfbridge: a worker that serves TensorFlow over ZeroMQ with wire format v1."""
