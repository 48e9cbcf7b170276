package main

import (
	"fmt"
	"slices"
	"strings"
)

// markdown renders the report as the Markdown that README.md includes.
func (rep *report) markdown() string {
	var b strings.Builder
	m := rep.Machine
	mode := ""
	if rep.Quick {
		mode = " **Quick mode: too few messages for the numbers to mean anything.**"
	}
	fmt.Fprintf(&b, "Measured by `make bench` on %s: %s, %d cores (GOMAXPROCS %d), %s, %s, %s, libzmq %s. "+
		"%d round(s) of every case (the short chain and pool cases run %d times a round when not quick), the variants interleaved within each round; %.0f s in all.%s\n\n",
		rep.Started, m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Kernel, m.Go, m.Libzmq, rep.Rounds, shortRepeat, rep.Seconds, mode)
	fmt.Fprintf(&b, "![throughput and round trip per variant](results.png)\n\n")
	names := rep.variantNames()
	rep.targetTable(&b)

	fmt.Fprintf(&b, "### Throughput, one PUSH to one PULL\n\n")
	fmt.Fprintf(&b, "Messages per second (MB/s for 64 KiB); in parentheses, the ratio to raw pebbe/zmq4 in the same run (higher is better). Every message is numbered and checked on arrival.\n\n")
	rep.pivot(&b, names, "throughput", func(r *Record) string {
		if r.Size >= 64<<10 {
			return fmt.Sprintf("%s MB/s", si(r.MBPerSec))
		}
		return si(r.MsgsPerSec)
	})
	fmt.Fprintf(&b, "### Fan-in, %d PUSH to one PULL, 64 B\n\n", fanInSenders)
	fmt.Fprintf(&b, "Messages per second, all senders together; ratio to raw pebbe/zmq4. Each sender's order and the total count are checked.\n\n")
	rep.pivot(&b, names, "fan-in", func(r *Record) string { return si(r.MsgsPerSec) })
	fmt.Fprintf(&b, "### Fan-in over sockets, %d PUSH to %d PULL served by one goroutine, 64 B\n\n", fanInSockets, fanInSockets)
	fmt.Fprintf(&b, "Messages per second, all sockets together: `zmqchan-merge` serves the PULLs through a zchan.Merge, `zmqchan-select` with a select of one case per socket, in the same run (raw pebbe has no row: its sockets cannot be selected on). Each socket's order and the total count are checked.\n\n")
	rep.pivot(&b, names, "fan-in-sockets", func(r *Record) string { return si(r.MsgsPerSec) })
	fmt.Fprintf(&b, "### Pipelines, 64 B: a %d-stage chain and a %d-worker pool\n\n", chainStages, poolWorkers)
	fmt.Fprintf(&b, "Messages per second through a source, %d pass-through stages and a sink (order checked), and tasks per second through a ventilator, %d echoing workers and a sink (each task's result checked exactly once); ratio to raw pebbe/zmq4. `pipeline` is zmqchan's pipeline package; the other variants wire the same topology from their sockets.\n\n", chainStages, poolWorkers)
	rep.pivot(&b, names, "chain", func(r *Record) string { return si(r.MsgsPerSec) })
	rep.pivot(&b, names, "pool", func(r *Record) string { return si(r.MsgsPerSec) })
	fmt.Fprintf(&b, "### Round trip, 64 B, both ends through the variant\n\n")
	fmt.Fprintf(&b, "Median / 99th percentile in µs over every round trip; in parentheses, the median's ratio to raw pebbe/zmq4 (lower is better).\n\n")
	rep.pivot(&b, names, "rtt-req-rep", func(r *Record) string { return si(r.RTTP50us) + " / " + si(r.RTTP99us) })
	rep.pivot(&b, names, "rtt-dealer-router", func(r *Record) string { return si(r.RTTP50us) + " / " + si(r.RTTP99us) })
	fmt.Fprintf(&b, "### Requests per second, 64 B, concurrent callers\n\n")
	fmt.Fprintf(&b, "Requests per second with 1, 16 and 64 callers, each making its requests one after another, to one ROUTER echo server; ratio to raw pebbe/zmq4. `pebbe` and `zmqchan` give each caller its own REQ socket; `reqrep` shares one DEALER client among them all (requests multiplexed by id). Every reply is checked against its request.\n\n")
	for _, n := range requestCallers {
		rep.pivot(&b, names, requestsScenario(n), func(r *Record) string { return si(r.MsgsPerSec) })
	}
	fmt.Fprintf(&b, "### Cost per message\n\n")
	fmt.Fprintf(&b, "Heap allocations per message, and CPU seconds (user + system, whole process, libzmq's threads included) per million messages; per round trip for the round-trip rows.\n\n")
	rep.costTable(&b, names)
	rep.idleTable(&b, names)
	rep.openCloseTable(&b, names)

	fmt.Fprintf(&b, "### Variants\n\n")
	for _, v := range rep.Variants {
		fmt.Fprintf(&b, "- `%s`: %s.\n", v.Name, v.Doc)
	}
	var notes []string
	for _, r := range rep.Records {
		c := Case{Scenario: r.Scenario, Transport: r.Transport, Size: r.Size}
		if r.Skipped != "" {
			notes = append(notes, fmt.Sprintf("- %s, `%s`: not run: %s.", c.id(), r.Variant, r.Skipped))
		}
		for _, e := range r.Errors {
			notes = append(notes, fmt.Sprintf("- %s, `%s`: **failed**: %s", c.id(), r.Variant, e))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\n### Not run or failed\n\n%s\n", strings.Join(notes, "\n"))
	}
	return b.String()
}

func (rep *report) variantNames() []string {
	var names []string
	for _, v := range rep.Variants {
		names = append(names, v.Name)
	}
	return names
}

// find returns the record of one case and variant, or nil. Plain
// channels have no transport; tables show them in the inproc row.
func (rep *report) find(scenario, transport string, size int, variant string) *Record {
	if variant == "chan" && transport == "inproc" {
		transport = "chan"
	}
	for i := range rep.Records {
		r := &rep.Records[i]
		if r.Scenario == scenario && r.Transport == transport && r.Size == size && r.Variant == variant {
			return r
		}
	}
	return nil
}

// present returns the names of the variants that have a record of the
// scenario.
func (rep *report) present(names []string, scenarios ...string) []string {
	var out []string
	for _, n := range names {
		for _, r := range rep.Records {
			if r.Variant == n && slices.Contains(scenarios, r.Scenario) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// of returns the records of a scenario that have results, of one variant
// or ("") of all.
func (rep *report) of(scenario, variant string) []*Record {
	var rs []*Record
	for i := range rep.Records {
		r := &rep.Records[i]
		if r.Scenario == scenario && (variant == "" || r.Variant == variant) && r.Runs > 0 {
			rs = append(rs, r)
		}
	}
	return rs
}

// rows returns the distinct (transport, size) of a scenario, in run order.
func (rep *report) rows(scenario string) [][2]any {
	var rows [][2]any
	seen := make(map[string]bool)
	for _, r := range rep.Records {
		k := fmt.Sprint(r.Transport, r.Size)
		if r.Scenario == scenario && r.Transport != "chan" && !seen[k] {
			seen[k] = true
			rows = append(rows, [2]any{r.Transport, r.Size})
		}
	}
	return rows
}

// pivot writes one table: a row per transport and size, a column per
// variant, cell(r) and the ratio to raw in each cell.
func (rep *report) pivot(b *strings.Builder, names []string, scenario string, cell func(*Record) string) {
	rows := rep.rows(scenario)
	if len(rows) == 0 {
		return
	}
	names = rep.present(names, scenario)
	fmt.Fprintf(b, "| %s | %s |\n", scenario, strings.Join(names, " | "))
	fmt.Fprintf(b, "|---|%s\n", strings.Repeat("---:|", len(names)))
	for _, row := range rows {
		t, size := row[0].(string), row[1].(int)
		label := t
		if t == "inproc" {
			label = "inproc (chan: none)"
		}
		if size > 0 {
			label += " " + sizeName(size)
		}
		cells := make([]string, len(names))
		for j, n := range names {
			r := rep.find(scenario, t, size, n)
			switch {
			case r == nil:
			case r.Skipped != "":
				cells[j] = "skipped"
			case r.Runs == 0:
				cells[j] = "**failed**"
			default:
				cells[j] = cell(r)
				if r.RatioToRaw > 0 {
					cells[j] += fmt.Sprintf(" (%.2f)", r.RatioToRaw)
				}
			}
		}
		fmt.Fprintf(b, "| %s | %s |\n", label, strings.Join(cells, " | "))
	}
	fmt.Fprintln(b)
}

func (rep *report) costTable(b *strings.Builder, names []string) {
	scenarios := []string{"throughput", "fan-in", "fan-in-sockets", "chain", "pool", "rtt-req-rep", "rtt-dealer-router"}
	names = rep.present(names, scenarios...)
	fmt.Fprintf(b, "| case | %s |\n", strings.Join(names, " | "))
	fmt.Fprintf(b, "|---|%s\n", strings.Repeat("---:|", len(names)))
	for _, sc := range scenarios {
		for _, row := range rep.rows(sc) {
			t, size := row[0].(string), row[1].(int)
			cells := make([]string, len(names))
			for j, n := range names {
				if r := rep.find(sc, t, size, n); r != nil && r.Runs > 0 {
					cells[j] = fmt.Sprintf("%s / %s", si(r.AllocsPerMsg), si(r.CPUsPerMillion))
				}
			}
			fmt.Fprintf(b, "| %s %s %s | %s |\n", sc, t, sizeName(size), strings.Join(cells, " | "))
		}
	}
	fmt.Fprintln(b)
}

func (rep *report) idleTable(b *strings.Builder, names []string) {
	if len(rep.of("idle", "")) == 0 {
		return
	}
	fmt.Fprintf(b, "### Idle: %d open sockets (%d connected PUSH/PULL pairs), nothing sent\n\n", 2*idlePairs, idlePairs)
	fmt.Fprintf(b, "CPU of the whole process in %% of one core over the idle period, and the OS threads and file descriptors the sockets added.\n\n")
	fmt.Fprintf(b, "| variant | transport | CPU %% of one core | threads | fds |\n|---|---|---:|---:|---:|\n")
	for _, n := range names {
		for _, r := range rep.of("idle", n) {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", n, r.Transport, fmt.Sprintf("%.3f", r.Extra["cpu_percent"]), si(r.Extra["threads"]), si(r.Extra["fds"]))
		}
	}
	fmt.Fprintln(b)
}

func (rep *report) openCloseTable(b *strings.Builder, names []string) {
	if len(rep.of("open-close", "")) == 0 {
		return
	}
	fmt.Fprintf(b, "### Open and close of many sockets\n\n")
	fmt.Fprintf(b, "DEALER sockets, each on its own goroutine, connected to one ROUTER, opened all, then closed all, in a process of their own. Memory, threads and descriptors are what the open sockets added.\n\n")
	fmt.Fprintf(b, "| variant | transport | sockets | open µs/socket | close µs/socket | RSS bytes/socket | Go heap bytes/socket | threads | fds/socket |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range names {
		for _, r := range rep.of("open-close", n) {
			x := r.Extra
			fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", n, r.Transport, r.Msgs,
				si(x["open_us_per_socket"]), si(x["close_us_per_socket"]), si(x["rss_bytes_per_socket"]),
				si(x["heap_bytes_per_socket"]), si(x["threads"]), si(x["fds_per_socket"]))
		}
	}
	fmt.Fprintln(b)
}

// si prints x with three significant digits and a k or M suffix.
func si(x float64) string {
	switch ax := abs(x); {
	case ax >= 1e6:
		return fmt.Sprintf("%.3gM", x/1e6)
	case ax >= 1e3:
		return fmt.Sprintf("%.3gk", x/1e3)
	case ax == 0:
		return "0"
	}
	return fmt.Sprintf("%.3g", x)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
