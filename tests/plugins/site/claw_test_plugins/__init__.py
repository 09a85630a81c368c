"""A third-party plugin package for the tests: the ``loopback`` channel and the ``parrot`` provider."""
