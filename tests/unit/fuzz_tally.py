"""What the property-based fuzz tests share: their hypothesis settings and a tally.

One definition, two runners. The test suite runs every property with a few examples
(``STAUTH_FUZZ_EXAMPLES``, default 60) so it stays fast; ``scripts/fuzz.py`` sets the
variable high, runs the same test files through pytest, and prints ``TALLY``: per target,
how many examples ran, how many raised an unhandled exception, how many got a 5xx.

A property marks its target with ``@tallied("cookie codec")`` (placed *under*
``@given``, so it counts every example hypothesis runs). Failures are told apart by type:

* ``ServerError``: an HTTP endpoint answered 5xx;
* ``UnhandledError`` (or any exception that is not an ``AssertionError``): code under
  test raised something its contract does not allow, or logged a traceback and hid it
  behind a 4xx;
* any other ``AssertionError``: a property was violated (a wrong answer, not a crash).

Counts include the examples hypothesis replays while shrinking a failure, so any
non-zero figure means "failed", not "failed that many distinct ways".
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import HypothesisException

# Hypothesis keeps caches and failure patches in ./.hypothesis even without an example
# database: keep them out of the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "stauth-hypothesis")

#: Examples per property; scripts/fuzz.py raises it.
EXAMPLES_ENV = "STAUTH_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 60

F = TypeVar("F", bound=Callable[..., Any])


def examples_per_property() -> int:
    """``STAUTH_FUZZ_EXAMPLES`` as a positive number (60 when unset)."""
    return max(1, int(os.environ.get(EXAMPLES_ENV, DEFAULT_EXAMPLES)))


def fuzz_settings(*, shared_fixtures: bool = False) -> settings:
    """Settings for a fuzz property: the configured number of examples, no deadline
    (the machine is shared, timings are noisy), and no example database written into
    the repository.

    In the test suite (``STAUTH_FUZZ_EXAMPLES`` unset) the examples are derandomized:
    the same 60 every run, so the suite never fails by luck. A fuzzing run varies them
    (``scripts/fuzz.py --seed``). No "explain" phase: it costs seconds per failure and the
    falsifying example says enough.

    ``shared_fixtures``: the property takes function-scoped pytest fixtures (a test
    server) that all its examples share on purpose; hypothesis would warn about that.
    """
    checks = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
    if shared_fixtures:
        checks.append(HealthCheck.function_scoped_fixture)
    return settings(max_examples=examples_per_property(), deadline=None, database=None,
                    derandomize=EXAMPLES_ENV not in os.environ, print_blob=True, suppress_health_check=checks,
                    phases=[phase for phase in Phase if phase is not Phase.explain])


class ServerError(AssertionError):
    """An endpoint answered with a 5xx status."""


class UnhandledError(AssertionError):
    """Code under test raised (or logged) an exception its contract does not allow."""


@dataclass
class Counts:
    """One target's figures."""

    examples: int = 0
    unhandled: int = 0
    server_errors: int = 0
    violations: int = 0
    seconds: float = 0.0
    properties: set[str] = field(default_factory=set)

    @property
    def failed(self) -> bool:
        return bool(self.unhandled or self.server_errors or self.violations)


#: Target name -> its counts, filled as properties run (read by scripts/fuzz.py).
TALLY: dict[str, Counts] = {}


def tallied(target: str) -> Callable[[F], F]:
    """Count each example of the decorated property under ``target``, and how it failed."""

    def decorate(test: F) -> F:
        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> Any:
            counts = TALLY.setdefault(target, Counts())
            counts.properties.add(test.__name__)
            started = time.perf_counter()
            try:
                result = test(*args, **kwargs)
            except HypothesisException:
                raise  # hypothesis' own control flow (an unsatisfied assume(), ...): not an example
            except ServerError:
                counts.examples += 1
                counts.server_errors += 1
                raise
            except UnhandledError:
                counts.examples += 1
                counts.unhandled += 1
                raise
            except AssertionError:
                counts.examples += 1
                counts.violations += 1
                raise
            except Exception:
                counts.examples += 1
                counts.unhandled += 1
                raise
            finally:
                counts.seconds += time.perf_counter() - started
            counts.examples += 1
            return result

        return run  # type: ignore[return-value]

    return decorate
