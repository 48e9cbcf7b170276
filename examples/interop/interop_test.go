package interop_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// timeout bounds every process of these tests.
const timeout = 90 * time.Second

// python returns a python3 interpreter that can import zmq, or fails the
// test: these tests are the other-language half of the examples' contract
// and must not be skipped.
func python(t *testing.T) string {
	t.Helper()
	candidates := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("PYTHON3"); p != "" {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import zmq").Run() == nil {
			return p
		}
	}
	t.Fatalf("no python3 can import zmq (tried %s): run scripts/deps.sh --test to install python3-zmq",
		strings.Join(candidates, ", "))
	return ""
}

func script(name string) string { return filepath.Join("testdata", name) }

// enterKey is a ventilator's stdin: the test presses Enter once the
// workers are up. It is an os.Pipe, so that the child reads it directly
// and nothing waits for it to close.
type enterKey struct {
	*os.File // the read end, the child's stdin
	w        *os.File
}

func keyboard(t *testing.T) enterKey {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return enterKey{r, w}
}

func (k enterKey) press(t *testing.T) {
	t.Helper()
	if _, err := k.w.Write([]byte("\n")); err != nil {
		t.Fatalf("pressing Enter: %v", err)
	}
}

var elapsedRE = regexp.MustCompile(`(?m)^Total elapsed time: \d+ msec$`)

// TestPoolPythonWorkers runs the Go ventilator and the Go sink with kill
// signal (taskvent, tasksink2) with two Python workers (taskwork2.py): the
// batch must complete and KILL must end the Python workers.
func TestPoolPythonWorkers(t *testing.T) {
	py := python(t)
	const tasks = 40
	vent, sink, control := exampletest.TCP(t), exampletest.TCP(t), exampletest.TCP(t)

	sinkProc := exampletest.Start(t, timeout, exampletest.Build(t, "tasksink2"),
		"-bind", sink, "-control", control, "-tasks", strconv.Itoa(tasks))
	// As in the guide: start the ventilator, start the workers, then press
	// Enter, so that the tasks are spread over all the workers.
	enter := keyboard(t)
	ventProc := exampletest.StartInput(t, timeout, enter.File, exampletest.Build(t, "taskvent"),
		"-bind", vent, "-sink", sink, "-tasks", strconv.Itoa(tasks), "-maxcost", "10")
	ventProc.Stdout.WaitFor(t, "Press Enter", timeout)
	var workers []*exampletest.Proc
	for range 2 {
		w := exampletest.Start(t, timeout, py, script("taskwork2.py"), vent, sink, control)
		w.Stdout.WaitFor(t, "ready", timeout)
		workers = append(workers, w)
	}
	enter.press(t)

	if err := ventProc.Wait(t); err != nil {
		t.Fatalf("taskvent: %v\n%s", err, ventProc.Stderr)
	}
	ventProc.Stdout.WaitFor(t, "Total expected cost:", time.Second)
	if err := sinkProc.Wait(t); err != nil {
		t.Fatalf("tasksink2: %v\n%s", err, sinkProc.Stderr)
	}
	out := sinkProc.Stdout.String()
	progress, _, _ := strings.Cut(out, "\n")
	if strings.Count(progress, ":") != tasks/10 || strings.Count(progress, ".") != tasks-tasks/10 || !elapsedRE.MatchString(out) {
		t.Errorf("tasksink2 output:\n%s", out)
	}
	done := 0
	for i, w := range workers {
		if err := w.Wait(t); err != nil {
			t.Errorf("python worker %d after KILL: %v\n%s", i, err, w.Stderr)
		}
		n := strings.Count(w.Stdout.String(), ".")
		t.Logf("python worker %d did %d tasks", i, n)
		done += n
	}
	if done != tasks {
		t.Errorf("python workers did %d tasks, want %d", done, tasks)
	}
}

// TestPoolGoWorkers runs the Python ventilator and sink with kill signal
// (taskvent.py, tasksink2.py) with a Go taskwork2, which must exit on
// KILL, and a Go taskwork, which has no kill signal and must exit 0 on
// SIGTERM.
func TestPoolGoWorkers(t *testing.T) {
	py := python(t)
	const tasks = 40
	vent, sink, control := exampletest.TCP(t), exampletest.TCP(t), exampletest.TCP(t)

	sinkProc := exampletest.Start(t, timeout, py, script("tasksink2.py"), sink, control, strconv.Itoa(tasks))
	sinkProc.Stdout.WaitFor(t, "ready", timeout)
	enter := keyboard(t)
	ventProc := exampletest.StartInput(t, timeout, enter.File, py, script("taskvent.py"),
		vent, sink, strconv.Itoa(tasks), "10")
	ventProc.Stdout.WaitFor(t, "Press Enter", timeout)
	worker2 := exampletest.Start(t, timeout, exampletest.Build(t, "taskwork2"),
		"-connect", vent, "-sink", sink, "-control", control)
	worker := exampletest.Start(t, timeout, exampletest.Build(t, "taskwork"), "-connect", vent, "-sink", sink)
	enter.press(t)

	if err := ventProc.Wait(t); err != nil {
		t.Fatalf("taskvent.py: %v\n%s", err, ventProc.Stderr)
	}
	if err := sinkProc.Wait(t); err != nil {
		t.Fatalf("tasksink2.py: %v\n%s", err, sinkProc.Stderr)
	}
	if out := sinkProc.Stdout.String(); !elapsedRE.MatchString(out) {
		t.Errorf("tasksink2.py output:\n%s", out)
	}
	if err := worker2.Wait(t); err != nil {
		t.Errorf("taskwork2 after KILL: %v\n%s", err, worker2.Stderr)
	}
	if err := worker.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := worker.Wait(t); err != nil {
		t.Errorf("taskwork after SIGTERM: %v\n%s", err, worker.Stderr)
	}
	done := 0
	for _, w := range []*exampletest.Proc{worker2, worker} {
		done += strings.Count(w.Stdout.String(), ".")
	}
	t.Logf("taskwork2 did %d tasks, taskwork %d", strings.Count(worker2.Stdout.String(), "."), strings.Count(worker.Stdout.String(), "."))
	if done != tasks {
		t.Errorf("Go workers did %d tasks, want %d", done, tasks)
	}
}

// TestBrokerPython runs each Go broker (rrbroker, and msgqueue, its
// device version) between the guide's Python client and two Python
// workers, and checks every reply and the broker's clean exit on SIGTERM.
func TestBrokerPython(t *testing.T) {
	py := python(t)
	const requests = 10
	for _, broker := range []string{"rrbroker", "msgqueue"} {
		t.Run(broker, func(t *testing.T) {
			frontend, backend := exampletest.TCP(t), exampletest.TCP(t)
			brokerProc := exampletest.Start(t, timeout, exampletest.Build(t, broker),
				"-frontend", frontend, "-backend", backend)
			var workers []*exampletest.Proc
			for range 2 {
				w := exampletest.Start(t, timeout, py, script("rrworker.py"), backend)
				w.Stdout.WaitFor(t, "ready", timeout)
				workers = append(workers, w)
			}
			client := exampletest.Start(t, timeout, py, script("rrclient.py"), frontend, strconv.Itoa(requests))
			if err := client.Wait(t); err != nil {
				t.Fatalf("rrclient.py: %v\n%s", err, client.Stderr)
			}
			for i := 1; i <= requests; i++ {
				if want := "Received reply " + strconv.Itoa(i) + " [World]"; client.Stdout.Count(want) != 1 {
					t.Errorf("rrclient.py output lacks %q:\n%s", want, client.Stdout)
				}
			}
			handled := 0
			for i, w := range workers {
				n := w.Stdout.Count("Received request: Hello")
				t.Logf("python worker %d handled %d requests", i, n)
				handled += n
			}
			if handled != requests {
				t.Errorf("python workers handled %d requests, want %d", handled, requests)
			}

			if err := brokerProc.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := brokerProc.Wait(t); err != nil {
				t.Fatalf("%s after SIGTERM: %v\n%s", broker, err, brokerProc.Stderr)
			}
			want := map[string]string{"rrbroker": "Forwarded 10 requests and 10 replies", "msgqueue": "Forwarded 20 messages"}[broker]
			brokerProc.Stdout.WaitFor(t, want, time.Second)
		})
	}
}
