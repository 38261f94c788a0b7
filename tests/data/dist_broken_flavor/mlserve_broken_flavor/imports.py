"""A flavor module whose import fails, as a plugin with a missing dependency would."""

import mlserve_no_such_dependency  # noqa: F401

flavor = None
