# Request-reply client, after the guide's rrclient.py.
# Connects REQ socket to tcp://localhost:5559 and sends "Hello" to the
# broker's frontend, expecting "World" back.
# Arguments: rrclient.py [connect [requests]].
import sys

import zmq

args = sys.argv[1:] + [None] * 2
requests = int(args[1] or 10)

# Prepare our context and sockets
context = zmq.Context()
socket = context.socket(zmq.REQ)
socket.connect(args[0] or "tcp://localhost:5559")

# Do 10 requests, waiting each time for a response
for request in range(1, requests + 1):
    socket.send(b"Hello")
    message = socket.recv()
    print("Received reply %s [%s]" % (request, message.decode()), flush=True)
