"""The Python half of tfbridge: a worker that serves TensorFlow over its links (ZeroMQ, or the local link) with wire format v2."""
