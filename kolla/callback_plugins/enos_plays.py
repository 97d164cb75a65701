# Records, for each play of a playbook, the hosts it runs on, as resolved at the time the play
# starts (after kolla-ansible's group_by tasks made the enable_<service>_True groups). enos' check
# mode enables it with ANSIBLE_CALLBACKS_ENABLED=enos_plays; each play is one JSON line in the file
# named by ENOS_PLAYS_FILE, tagged with ENOS_PLAYBOOK (the kolla-ansible action).
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: enos_plays
    type: aggregate
    short_description: writes each play's hosts as JSON lines
    description: Used by enos' Kolla check mode to show what a deploy would run where.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "enos_plays"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_play_start(self, play):
        inventory = play.get_variable_manager()._inventory
        hosts = [host.name for host in inventory.get_hosts(play.hosts)]
        record = {"playbook": os.environ.get("ENOS_PLAYBOOK", ""), "play": play.get_name(), "hosts": hosts}
        with open(os.environ["ENOS_PLAYS_FILE"], "a") as out:
            out.write(json.dumps(record) + "\n")
