"""Settings for the test suite: the product settings, with a private data dir and fast hashing.

The environment is set before the product settings module reads it; nothing in product code
knows it runs under tests.
"""

import os
import tempfile

os.environ.setdefault("PORTAL_DATA_DIR", tempfile.mkdtemp(prefix="nefos-test-"))
os.environ.setdefault("PORTAL_FAST_PASSWORD_HASHING", "1")

import portal.settings as _product

globals().update({name: value for name, value in vars(_product).items() if name.isupper()})
