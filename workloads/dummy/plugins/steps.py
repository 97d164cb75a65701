"""A Rally scenario plugin of the dummy workload: run.yml's `plugin` key loads it (--plugin-paths)."""
import time

from rally.task import atomic
from rally.task import scenario


@scenario.configure(name="Enos.steps")
class Steps(scenario.Scenario):
    """Sleeps in `steps` atomic actions, which Rally's report shows one by one."""

    def run(self, steps=2, sleep=0.01):
        for i in range(steps):
            with atomic.ActionTimer(self, "step_%d" % i):
                time.sleep(sleep)
