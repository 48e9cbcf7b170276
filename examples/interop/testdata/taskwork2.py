# Task worker with kill signalling, after the guide's taskwork2.py.
# Connects PULL socket to tcp://localhost:5557 and PUSH socket to
# tcp://localhost:5558, like taskwork.py, and a SUB socket to
# tcp://localhost:5559 for the sink's kill signal. The endpoints can be
# given as arguments: taskwork2.py [tasks [sink [control]]].
import sys
import time

import zmq

args = sys.argv[1:] + [None] * 3
context = zmq.Context()

# Socket to receive messages on
receiver = context.socket(zmq.PULL)
receiver.connect(args[0] or "tcp://localhost:5557")

# Socket to send messages to
sender = context.socket(zmq.PUSH)
sender.connect(args[1] or "tcp://localhost:5558")

# Socket for control input
controller = context.socket(zmq.SUB)
controller.connect(args[2] or "tcp://localhost:5559")
controller.setsockopt(zmq.SUBSCRIBE, b"")

# Process messages from receiver and controller
poller = zmq.Poller()
poller.register(receiver, zmq.POLLIN)
poller.register(controller, zmq.POLLIN)
print("ready", flush=True)
# Process messages from both sockets
while True:
    socks = dict(poller.poll())
    if socks.get(receiver) == zmq.POLLIN:
        message = receiver.recv_string()

        # Process task
        workload = int(message)  # Workload in msecs

        # Do the work
        time.sleep(workload / 1000.0)

        # Send results to sink
        sender.send(b"")

        # Simple progress indicator for the viewer
        sys.stdout.write(".")
        sys.stdout.flush()

    # Any waiting controller command acts as 'KILL'
    if socks.get(controller) == zmq.POLLIN:
        break

# Finished
receiver.close()
sender.close()
controller.close()
context.term()
