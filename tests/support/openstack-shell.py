"""The openstack client of the venv, served from one process so that its modules load once (a command
costs about 1.5 s of start-up otherwise). Usage: openstack-shell.py SOCKET PARENT_PID. A request is a
line of JSON on the Unix socket, {"argv": [...], "env": {"OS_...": ...}}; the answer a line of JSON,
{"code": ..., "stdout": ..., "stderr": ...}. It exits when its parent is gone."""
import contextlib
import io
import json
import logging
import os
import socket
import sys
import traceback

from openstackclient import shell

path, parent = sys.argv[1], int(sys.argv[2])
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen()
server.settimeout(1)
while os.getppid() == parent:
    try:
        connection, _ = server.accept()
    except socket.timeout:
        continue
    with connection:
        connection.settimeout(None)
        request = json.loads(connection.makefile("r").readline())
        for key in [k for k in os.environ if k.startswith("OS_")]:
            del os.environ[key]
        os.environ.update(request["env"])
        # Each run adds its console handler to the root logger: only this run's may write.
        logging.getLogger().handlers.clear()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = shell.main(request["argv"])
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            except Exception:
                traceback.print_exc()
                code = 1
        answer = {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
        connection.sendall((json.dumps(answer) + "\n").encode())
