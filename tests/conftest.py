"""Suite-wide test settings."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Hypothesis' wall-clock checks (a deadline per example, "input generation is slow") flake
# on a loaded two-core CI machine and on the first run in a fresh virtual environment,
# where Hypothesis compiles the modules it imports lazily during the first draw. The
# properties themselves are unaffected; explicit @settings in a test still apply on top.
settings.register_profile("custbond", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("custbond")
