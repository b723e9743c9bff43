"""The Python half of tfbridge: a worker that serves TensorFlow to Node over the local link (a socket pair and shared memory) or ZeroMQ, in wire format v2 (docs/wire.md)."""
