package main

import (
	"fmt"
	"time"
)

// benchLinger is the linger of every ZeroMQ socket of the benchmark: long
// enough for nothing queued to be lost, short enough that a failed run
// does not hang its context's termination.
const benchLinger = 200 * time.Millisecond

var transports = []string{"inproc", "ipc", "tcp"}

func (c *Case) id() string {
	if c.Size > 0 {
		return fmt.Sprintf("%s/%s/%s", c.Scenario, c.Transport, sizeName(c.Size))
	}
	return fmt.Sprintf("%s/%s", c.Scenario, c.Transport)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	default:
		return fmt.Sprintf("%dB", n)
	}
}

// runTimeoutFlag is -timeout.
var runTimeoutFlag = 2 * time.Minute

// runTimeout bounds one run, so that a stuck variant fails instead of
// hanging the suite.
func runTimeout(c *Case) time.Duration { return runTimeoutFlag }

// shortRepeat is how many times a chain or pool case runs in each round
// (not in quick mode): a run of 20,000 messages lasts 15 to 50 ms for the
// fast variants, and the ratio of two such runs side by side spreads by
// ±15% on a shared 2-core machine, so a 3-round run takes its medians
// over 15.
const shortRepeat = 5

// cases lists every case in the order they run.
func cases(quick bool) []*Case {
	// Counts: enough for a run of the fast variants to last a tenth of a
	// second or more, few enough for the slow ones (a round trip through a
	// 1 ms poll loop takes over 2 ms) to keep the suite under 10 minutes.
	thrN := map[int]int{64: 100_000, 1024: 40_000, 64 << 10: 3_000}
	rttN := 500
	if quick {
		thrN = map[int]int{64: 3000, 1024: 1000, 64 << 10: 100}
		rttN = 50
	}
	var cs []*Case
	for _, size := range []int{64, 1024, 64 << 10} {
		for _, t := range append(transports, "chan") {
			cs = append(cs, &Case{Scenario: "throughput", Transport: t, Size: size, N: thrN[size], run: runThroughput})
		}
	}
	for _, t := range append(transports, "chan") {
		cs = append(cs, &Case{Scenario: "rtt-req-rep", Transport: t, Size: 64, N: rttN, run: roundTrip(Req, Rep)})
	}
	for _, t := range append(transports, "chan") {
		cs = append(cs, &Case{Scenario: "rtt-dealer-router", Transport: t, Size: 64, N: rttN, run: roundTrip(Dealer, Router)})
	}
	reqN := 20_000
	if quick {
		reqN = 640
	}
	for _, t := range []string{"inproc", "tcp"} {
		for _, n := range requestCallers {
			cs = append(cs, &Case{Scenario: requestsScenario(n), Transport: t, Size: 64, N: reqN, run: runRequests(n), only: requestVariants})
		}
	}
	fanN, chainN, idle, openN, repeat := 40_000, 20_000, 10*time.Second, 1000, shortRepeat
	if quick {
		fanN, chainN, idle, openN, repeat = 1000, 1000, 200*time.Millisecond, 100, 1
	}
	for _, t := range append(transports, "chan") {
		cs = append(cs, &Case{Scenario: "fan-in", Transport: t, Size: 64, N: fanN, run: runFanIn})
	}
	for _, t := range transports {
		cs = append(cs, &Case{Scenario: "fan-in-sockets", Transport: t, Size: 64, N: fanN}) // Run-only: zmqchan-merge, zmqchan-select
	}
	for _, t := range append(transports, "chan") {
		cs = append(cs, &Case{Scenario: "chain", Transport: t, Size: 64, N: chainN, run: runChain, repeat: repeat})
	}
	for _, t := range append(transports, "chan") {
		cs = append(cs, &Case{Scenario: "pool", Transport: t, Size: 64, N: chainN, run: runPool, repeat: repeat})
	}
	for _, t := range []string{"tcp", "chan"} {
		cs = append(cs, &Case{Scenario: "idle", Transport: t, Size: 64, N: 2 * idlePairs, run: runIdle, child: true, once: true, idle: idle})
	}
	for _, t := range []string{"inproc", "chan"} {
		cs = append(cs, &Case{Scenario: "open-close", Transport: t, N: openN, run: runOpenClose, child: true, once: true})
	}
	return cs
}

const rawName = "pebbe"

// variants lists every variant in the order they alternate.
func variants() []*Variant {
	return []*Variant{
		zchanVariant("zmqchan", false),
		rawVariant(rawName, false),
		reqrepVariant(),
		reqrepClientVariant(),
		zchanVariant("zmqchan-lock", true),
		rawVariant("pebbe-lock", true),
		reactorVariant(),
		bridgeVariant(),
		goczmqVariant(),
		gozmqVariant(),
		chanVariant(),
		pipelineVariant(),
		mergeVariant(),
		selectVariant(),
	}
}
