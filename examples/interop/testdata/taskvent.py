# Task ventilator, after the guide's taskvent.py.
# Binds PUSH socket to tcp://*:5557 and sends batch of tasks to workers via
# that socket. Arguments: taskvent.py [bind [sink [tasks [maxcost]]]].
import random
import sys
import time

import zmq

args = sys.argv[1:] + [None] * 4
tasks = int(args[2] or 100)
maxcost = int(args[3] or 100)

context = zmq.Context()

# Socket to send messages on
sender = context.socket(zmq.PUSH)
sender.bind(args[0] or "tcp://*:5557")

# Socket with direct access to the sink: used to synchronize start of batch
sink = context.socket(zmq.PUSH)
sink.connect(args[1] or "tcp://localhost:5558")

print("Press Enter when the workers are ready: ", flush=True)
_ = input()
print("Sending tasks to workers...", flush=True)

# The first message is "0" and signals start of batch
sink.send(b"0")

# Initialize random number generator
random.seed()

# Send tasks
total_msec = 0
for task_nbr in range(tasks):
    # Random workload from 1 to maxcost msecs
    workload = random.randint(1, maxcost)
    total_msec += workload
    sender.send_string("%i" % workload)

print("Total expected cost: %s msec" % total_msec, flush=True)

# Give 0MQ time to deliver
time.sleep(1)
