"""Root conftest of a checkout: byzbench's pytest plugin when it is not installed.

An installed byzbench registers :mod:`pytest_byzbench` through its ``pytest11`` entry point;
pytest loads a plugin module once, so naming it here too is harmless and lets a bare checkout
(``PYTHONPATH=.``) run its tests.
"""

pytest_plugins = ["pytest_byzbench"]
