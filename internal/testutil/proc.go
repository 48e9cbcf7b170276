package testutil

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Resources is a snapshot of what the process holds that a leak would
// grow.
type Resources struct {
	Goroutines int
	FDs        int
	Threads    int // all OS threads: Go's, libzmq's, any other C library's
	ZMQThreads int // libzmq's background threads (I/O threads, reaper)
}

// Snapshot counts the process's goroutines, open file descriptors and OS
// threads. A count it cannot read is -1.
func Snapshot() Resources {
	return Resources{Goroutines: runtime.NumGoroutine(), FDs: FDs(), Threads: Threads(), ZMQThreads: ThreadsNamed("ZMQbg")}
}

// ThreadsNamed returns the number of the process's threads whose name
// (/proc/self/task/*/comm) starts with prefix, or -1. libzmq names its
// threads "ZMQbg/IO/0", "ZMQbg/Reaper" and so on; Go's threads carry the
// program's name. Unlike Go's threads, which the runtime keeps parked
// once created, libzmq's end with their context, so their count is exact.
func ThreadsNamed(prefix string) int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	n := 0
	for _, task := range tasks {
		comm, err := os.ReadFile("/proc/self/task/" + task.Name() + "/comm")
		if err != nil {
			continue // the thread ended while we looked
		}
		if bytes.HasPrefix(comm, []byte(prefix)) {
			n++
		}
	}
	return n
}

// FDs returns the number of open file descriptors of the process, from
// /proc/self/fd (the descriptor used to read the directory included), or
// -1 if it cannot be read.
func FDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// Threads returns the number of OS threads of the process (Go's and
// libzmq's), from the Threads line of /proc/self/status, or -1.
func Threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("Threads:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// CPUTime returns the user plus system CPU time the process has used so
// far, over all its threads (getrusage(RUSAGE_SELF)).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
