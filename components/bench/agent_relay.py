"""Shaker's agents' way back to its server, run on a testbed host: python3 - API PORT (this file on stdin).

The agents, booted in the over-cloud, reach the testbed's hosts but not the operator's machine. ssh
forwards the host's 127.0.0.1:PORT to the Shaker server on the operator's machine (ssh -R); this relay
listens on the host's address on the route to the cloud's API (where the agents' traffic comes from)
and carries each connection to that forward. It prints the address it listens on, then runs until its
ssh session ends (its parent, sshd's session, is gone).
"""

import os
import socket
import sys
import threading
import time

api, port = sys.argv[1], int(sys.argv[2])
parent = os.getppid()

# A UDP connect sends nothing: it only picks the source address of the route to the API.
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.connect((api, 9))
address = probe.getsockname()[0]
probe.close()
listener = socket.create_server((address, port))
print(address, flush=True)


def pipe(source, sink):
    """Copies one direction until its end closes, then half-closes the other side."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(agent):
    try:
        server = socket.create_connection(("127.0.0.1", port))
    except OSError as error:
        print(f"the forward to the Shaker server is closed: {error}", file=sys.stderr, flush=True)
        agent.close()
        return
    there = threading.Thread(target=pipe, args=(agent, server), daemon=True)
    there.start()
    pipe(server, agent)
    there.join()
    agent.close()
    server.close()


def accept():
    while True:
        agent, _ = listener.accept()
        threading.Thread(target=relay, args=(agent,), daemon=True).start()


threading.Thread(target=accept, daemon=True).start()
while os.getppid() == parent:
    time.sleep(1)
