"""Run a module as ``python -m`` would, with every non-loopback connection refused and logged.

    python tests/offline_guard.py LOG_FILE MODULE [ARGS...]

Used by the web page's browser test to show that the server fetches nothing from the internet
(Gradio's analytics, version check, share tunnel binary, fonts): each attempt to resolve a
host name other than localhost, or to connect to an address outside 127.0.0.0/8 and ::1, is
written to LOG_FILE as one line and fails as an unreachable network would.
"""

from __future__ import annotations

import ipaddress
import runpy
import socket
import sys
import traceback

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host.lower() in LOCAL_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name to be looked up


def main() -> None:
    log_path, module, *args = sys.argv[1:]
    log = open(log_path, "a", buffering=1)

    def refuse(what: str) -> None:
        where = "".join(traceback.format_stack(limit=6)[:-2]).replace("\n", " | ")
        log.write(f"{what} from {where}\n")

    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *a, **k):
        if not _is_loopback(host):
            refuse(f"getaddrinfo {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "offline (tests/offline_guard.py)")
        return real_getaddrinfo(host, *a, **k)

    def check(sock, address) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            refuse(f"connect {address!r}")
            raise OSError(101, "Network is unreachable (tests/offline_guard.py)")

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
