# Lists, once a playbook has failed, each task that failed (errors not ignored) or found its host unreachable,
# with the host and the task's message, on stderr. kolla-ansible runs every play after a failure (to skip it),
# so a failed run's last lines used to show skipped plays; with this they say what failed and why. enos enables
# it for every kolla-ansible run (kolla/commands.ts).
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: enos_failures
    type: aggregate
    short_description: lists a failed playbook's failed tasks at its end
    description: Used by enos so that a failed kolla-ansible step's last lines name the failed tasks.
"""

MESSAGE_CHARS = 600


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "enos_failures"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        # Per host, its last failure: a host runs nothing after the failure that ends it, so the last one
        # recorded is that one (earlier ones were rescued by a block).
        self.failures = {}

    def _record(self, result, kind):
        outcome = result._result
        message = str(outcome.get("msg") or outcome.get("stderr") or outcome.get("stdout") or "").strip()
        if len(message) > MESSAGE_CHARS:
            message = message[:MESSAGE_CHARS] + " [...]"
        host = result._host.get_name()
        self.failures[host] = f"  {kind}: [{host}] {result._task.get_name()}: {message}"

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        ended = [line for host, line in self.failures.items() if stats.failures.get(host) or stats.dark.get(host)]
        if ended:
            self._display.display("enos: the tasks that failed:\n" + "\n".join(ended), stderr=True)
