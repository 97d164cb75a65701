# Written for enos-pulumi: Grafana annotations of Ansible runs, in InfluxDB's `events` database.
from __future__ import annotations

DOCUMENTATION = """
    name: influxdb_events
    type: notification
    short_description: writes each playbook and play start and end into InfluxDB's events database
    description:
      - One point per event in measurement C(events), with the fields Enos' dashboards query
        (title, text, tags, type), sent in line protocol to InfluxDB 1.x's HTTP API.
      - Points that cannot be sent (InfluxDB not up yet, e.g. while the monitoring playbook itself
        starts it) are kept and sent with the next ones; the run never fails because of this plugin.
    requirements:
      - enabled in ANSIBLE_CALLBACKS_ENABLED (enos sets it only when monitoring is on)
    options:
      url:
        description: InfluxDB's HTTP address, e.g. http://10.0.0.10:8086
        env:
          - name: ENOS_INFLUXDB_URL
        required: true
      database:
        description: the database the points go to
        default: events
        env:
          - name: ENOS_INFLUXDB_EVENTS_DB
"""

import getpass
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from ansible.plugins.callback import CallbackBase

# A refused or lost InfluxDB must not slow the run: short timeouts, and no retry before this delay.
TIMEOUT_S = 2
RETRY_AFTER_S = 10


def field(value):
    """A string field value in line protocol: quoted, with backslashes and quotes escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def line(event_type, title, text, tags, at_ns):
    fields = ",".join("%s=%s" % (k, field(v)) for k, v in (("title", title), ("text", text), ("tags", tags), ("type", event_type)))
    return "events %s %d" % (fields, at_ns)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "influxdb_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.pending = []
        self.failed_at = None
        self.warned = False
        self.playbook = None
        self.play = None
        self.user = getpass.getuser()

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        query = urllib.parse.urlencode({"db": self.get_option("database"), "precision": "ns"})
        self.write_url = "%s/write?%s" % (self.get_option("url").rstrip("/"), query)

    def event(self, event_type, title, text, tags):
        self.pending.append(line(event_type, title, text, tags, time.time_ns()))
        if self.failed_at is None or time.monotonic() - self.failed_at >= RETRY_AFTER_S:
            self.flush()

    def flush(self):
        body = "\n".join(self.pending).encode()
        request = urllib.request.Request(self.write_url, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                response.read()
            self.pending = []
            self.failed_at = None
        except (urllib.error.URLError, OSError) as error:
            self.failed_at = time.monotonic()
            if not self.warned:
                self.warned = True
                self._display.warning("influxdb_events: cannot write to %s (%s); events are kept and retried" % (self.write_url, error))

    def end_play(self):
        if self.play is not None:
            self.event("play", self.play, "play %s finished" % self.play, "play %s %s" % (self.playbook, self.play))
            self.play = None

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(playbook._file_name)
        self.event("playbook", self.playbook, "playbook %s started" % self.playbook, "playbook %s" % self.user)

    def v2_playbook_on_play_start(self, play):
        self.end_play()
        self.play = play.get_name().strip()
        self.event("play", self.play, "play %s started" % self.play, "play %s %s" % (self.playbook, self.play))

    def v2_playbook_on_stats(self, stats):
        self.end_play()
        failed = sorted(h for h in stats.processed if stats.failures.get(h) or stats.dark.get(h))
        outcome = "failed on %s" % ", ".join(failed) if failed else "finished"
        self.event("playbook", self.playbook, "playbook %s %s" % (self.playbook, outcome), "playbook %s" % self.user)
        if self.pending:
            self.flush()
            if self.pending:
                self._display.warning("influxdb_events: %d events could not be written to %s" % (len(self.pending), self.write_url))
