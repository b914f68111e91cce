"""Stand-in for the get-pip.py that ansible-test downloads from ci-files.testing.ansible.com.

ansible-test builds one virtualenv per sanity test (without pip) and bootstraps pip into it by
running that script, which our machines cannot download (only PyPI is reachable). This one
takes the same command line (pip install options, the pinned packages, ``--no-setuptools``,
``--no-wheel``): it installs the pip wheel bundled with Python (ensurepip, offline), then lets
that pip install the pinned packages from the configured index. scripts/sanity.sh puts it where
ansible-test looks for its cached copy.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py's own flags: pip install does not know them, and without setuptools and wheel
# is what pip installs anyway when they are not asked for.
_GET_PIP_ONLY = frozenset({"--no-setuptools", "--no-wheel"})


def main(argv: list[str]) -> int:
    # In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own environment, and
    # the pip below must read the machine's pip configuration (index, CA bundle).
    status = subprocess.call([sys.executable, "-m", "ensurepip", "--upgrade"])
    if status:
        return status
    args = [arg for arg in argv if arg not in _GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install", *args])  # noqa: S603 - ansible-test's pins


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
