# Request-reply service, after the guide's rrworker.py.
# Connects REP socket to tcp://localhost:5560 and expects "Hello" from the
# broker's backend, replying with "World". Argument: rrworker.py [connect].
import sys

import zmq

context = zmq.Context()
socket = context.socket(zmq.REP)
socket.connect(sys.argv[1] if len(sys.argv) > 1 else "tcp://localhost:5560")
print("ready", flush=True)

while True:
    message = socket.recv()
    print("Received request: %s" % message.decode(), flush=True)
    socket.send(b"World")
