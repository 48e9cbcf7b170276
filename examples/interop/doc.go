// Package interop holds no code: its tests run the example programs against
// peers written in Python with Debian's python3-zmq, after the guide's
// Python examples (testdata/*.py), to show that the programs are
// wire-compatible with the guide in another language.
//
//   - The worker pool: Go taskvent and tasksink2 with Python taskwork2.py
//     workers, and Python taskvent.py and tasksink2.py with Go taskwork and
//     taskwork2 workers.
//   - The broker: Go rrbroker and msgqueue between Python rrclient.py and
//     rrworker.py.
//
// The tests need a python3 that can import zmq: python3 on PATH, or
// /usr/bin/python3 when PATH finds another one first (pyenv), or $PYTHON3.
// Without one they fail and say to run scripts/deps.sh --test; they are
// never skipped.
package interop
