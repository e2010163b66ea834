"""Root conftest of a checkout: byzbench's pytest plugin when it is not installed.

An installed byzbench registers :mod:`pytest_byzbench` through its ``pytest11`` entry point, so
pytest loads it before reading any path (options work from every folder).  A bare checkout
(``PYTHONPATH=.``, no install) loads it from here instead.
"""

from importlib.metadata import entry_points

_INSTALLED = any(ep.value == "pytest_byzbench" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _INSTALLED else ["pytest_byzbench"]
