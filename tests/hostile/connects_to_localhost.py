"""Attempts to send data out over the network: TCP and UDP to a listener on
127.0.0.1 (PORT is filled in by the test), at import and inside a call.

Expected verdict: nothing reaches the listener (no network namespace route, or
seccomp refuses the socket); the function still returns, and passes.
"""

import socket

import numpy as np

PORT = 0  # the test writes its listener's port here


def _try_to_reach_the_listener(message: bytes) -> str:
    results = []
    attempts = {
        "tcp": lambda: socket.create_connection(("127.0.0.1", PORT), timeout=1).sendall(message),
        "raw tcp": lambda: _raw_tcp(message),
        "udp": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(message, ("127.0.0.1", PORT)),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            results.append(f"{name} sent")
        except Exception as error:  # noqa: BLE001 - whatever stops it
            results.append(f"{name} refused: {type(error).__name__}")
    return ", ".join(results)


def _raw_tcp(message: bytes) -> None:
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    connection.settimeout(1)
    connection.connect(("127.0.0.1", PORT))
    connection.sendall(message)


print("at import:", _try_to_reach_the_listener(b"LEAK from import"))


def np_forward(x, w, act="sigmoid"):
    print("in a call:", _try_to_reach_the_listener(b"LEAK from a call"))
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o
