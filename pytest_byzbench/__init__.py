"""byzbench's pytest plugin, loaded by the ``pytest11`` entry point of the installed package.

Because pytest loads it from the entry point, every byzbench option (``--leaderboard``,
``--data-root``, ``--aggregator``, ...) is known before pytest looks at the command line, from any
folder and whatever the paths given.  It bundles the modules below:

* :mod:`pytest_byzbench.options`: tiers, device, seeds, data root and the simulation fixtures;
* :mod:`pytest_byzbench.gate`: ``--aggregator`` and ``--aggregator-param``;
* :mod:`pytest_byzbench.records`: records to leaderboards, the baseline gate and a summary.
"""

pytest_plugins = ["pytest_byzbench.options", "pytest_byzbench.gate", "pytest_byzbench.records"]
