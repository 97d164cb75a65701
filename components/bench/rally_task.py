"""Rally through its Python API, what `rally db create`, `env create`, `task start` and two
`task report` would do, in one process per step: each rally command spends seconds importing.

  rally_task.py env CONFIG NAME [--from-sysenv]   fresh database + environment; prints its uuid
  rally_task.py run RUN_DIR/request.json          one task; writes results.json and report.html beside it
"""
import json
import os
import sys

import yaml
from rally import api as rally_api
from rally import plugins
from rally.common import db
from rally.env import env_mgr


def create_env(config, name, from_sysenv):
    rally_api.API(config_file=config, skip_db_check=True)
    db.schema.schema_create()
    spec = {}
    if from_sysenv:
        found = env_mgr.EnvManager.create_spec_from_sys_environ()
        spec = found["spec"]
        if not spec:
            details = "; ".join(f"{p}: {r['message']}" for p, r in found["discovery_details"].items())
            sys.exit(f"no platform found in the admin-openrc's OS_* variables ({details})")
    print(env_mgr.EnvManager.create(name, spec).uuid)


def run_task(request, out):
    api = rally_api.API(config_file=request["config"], plugin_paths=request["pluginPaths"] or None)
    with open(request["task"]) as f:
        rendered = api.task.render_template(
            task_template=f.read(), template_dir=os.path.dirname(request["task"]), **request["args"])
    task = api.task.create(deployment=request["env"], tags=request["tags"])
    # Validation errors and crashes raise; SLA failures are results, kept in the reports.
    api.task.start(deployment=request["env"], config=yaml.safe_load(rendered), task=task["uuid"])
    status = api.task.get(task_id=task["uuid"])["status"]
    if status != "finished":
        sys.exit(f"task {task['uuid']} ended {status}")
    for output_type, name in (("json", "results.json"), ("html", "report.html")):
        report = api.task.export(tasks=[task["uuid"]], output_type=output_type,
                                 output_dest=os.path.join(out, name))
        for path, content in report.get("files", {}).items():
            with open(path, "w") as f:
                f.write(content)


if __name__ == "__main__":
    # Scenario and platform plugins (rally's own, rally-openstack's), as the rally command loads them.
    plugins.load()
    if sys.argv[1] == "env":
        create_env(sys.argv[2], sys.argv[3], "--from-sysenv" in sys.argv[4:])
    else:
        with open(sys.argv[2]) as f:
            run_task(json.load(f), os.path.dirname(os.path.abspath(sys.argv[2])))
