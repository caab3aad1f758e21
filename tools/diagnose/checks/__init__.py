"""One module per diagnosis check; each registers itself in `tools.diagnose.base.REGISTRY` on import.

`tools.diagnose.base.load_checks()` imports every module here, so adding a check is adding a module (and its
test under tests/tools/diagnose/).
"""
