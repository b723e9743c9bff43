"""The Python half of tfbridge: a worker that serves TensorFlow to Node over the local link (a socket pair and shared memory) or ZeroMQ, in the wire format of docs/wire.md."""
