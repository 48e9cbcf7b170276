# Task sink with kill signalling, after the guide's tasksink2.py.
# Binds PULL socket to tcp://*:5558, collects results from workers, and
# sends KILL on a PUB socket bound to tcp://*:5559 when the batch is done.
# Arguments: tasksink2.py [bind [control [tasks]]].
import sys
import time

import zmq

args = sys.argv[1:] + [None] * 3
tasks = int(args[2] or 100)

context = zmq.Context()

# Socket to receive messages on
receiver = context.socket(zmq.PULL)
receiver.bind(args[0] or "tcp://*:5558")

# Socket for worker control
controller = context.socket(zmq.PUB)
controller.bind(args[1] or "tcp://*:5559")
print("ready", flush=True)

# Wait for start of batch
receiver.recv()

# Start our clock now
tstart = time.time()

# Process confirmations
for task_nbr in range(tasks):
    receiver.recv()
    if task_nbr % 10 == 0:
        sys.stdout.write(":")
    else:
        sys.stdout.write(".")
    sys.stdout.flush()

# Calculate and report duration of batch
tend = time.time()
print("\nTotal elapsed time: %d msec" % ((tend - tstart) * 1000), flush=True)

# Send kill signal to workers
controller.send(b"KILL")

# Finished
time.sleep(1)  # Give 0MQ time to deliver
