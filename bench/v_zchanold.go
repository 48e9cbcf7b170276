package main

// Temporary, with internal/zchanold: zmqchan-old runs zchan as it was at
// 3cf7a39, before the owner rewrite of issue 10, beside zmqchan in the same
// run, so that each row can be compared new against old. This file mirrors
// v_zchan.go (default options only); delete both once the comparison is
// recorded.

import (
	"context"
	"fmt"
	"strings"
	"time"

	zchan "github.com/zmqchan/zmqchan/bench/internal/zchanold"
)

// oldName is the variant that runs the frozen copy of zchan.
const oldName = "zmqchan-old"

var zchanOldTypes = map[Kind]zchan.Type{
	Push: zchan.Push, Pull: zchan.Pull, Req: zchan.Req, Rep: zchan.Rep,
	Dealer: zchan.Dealer, Router: zchan.Router,
}

func zchanOldVariant() *Variant {
	return &Variant{
		Name: oldName, Doc: "zmqchan as it was at 3cf7a39, before the owner rewrite (issue 10), default options; temporary",
		New: func() (Env, error) {
			zc, err := zchan.NewContext()
			if err != nil {
				return nil, err
			}
			return &zchanOldEnv{zc: zc}, nil
		},
	}
}

type zchanOldEnv struct{ zc *zchan.Context }

func (e *zchanOldEnv) Open(k Kind, ep string, bind bool) (Sock, error) {
	opts := []zchan.Option{zchan.WithContext(e.zc), zchan.WithLinger(benchLinger)}
	if bind {
		opts = append(opts, zchan.WithBind(ep))
	} else {
		opts = append(opts, zchan.WithConnect(ep))
	}
	s, err := zchan.Open(context.Background(), zchanOldTypes[k], opts...)
	if err != nil {
		return nil, err
	}
	return &zchanOldSock{s: s}, nil
}

func (e *zchanOldEnv) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.zc.Term(ctx); err != nil {
		return fmt.Errorf("zmqchan-old term: %w", err)
	}
	return nil
}

type zchanOldSock struct{ s *zchan.Socket[zchan.Msg] }

func (z *zchanOldSock) Send(m [][]byte) error {
	return z.s.Send(context.Background(), zchan.Msg(m))
}

func (z *zchanOldSock) Recv() ([][]byte, error) {
	m, ok := <-z.s.In()
	if !ok {
		return nil, fmt.Errorf("%w: %w", errClosed, z.s.Err())
	}
	return m, nil
}

func (z *zchanOldSock) Close() error { return z.s.Close() }

// oldTable writes zmqchan against zmqchan-old, one row per case both ran:
// the headline numbers and their paired ratio (ratio_to_old), and the
// allocations of each.
func (rep *report) oldTable(b *strings.Builder) {
	type row struct{ z, o *Record }
	var rows []row
	for i := range rep.Records {
		z := &rep.Records[i]
		if z.Variant != "zmqchan" || z.Runs == 0 {
			continue
		}
		if o := rep.find(z.Scenario, z.Transport, z.Size, oldName); o != nil && o.Runs > 0 {
			rows = append(rows, row{z, o})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "### zmqchan against zmqchan-old (the owner rewrite, issue 10)\n\n")
	fmt.Fprintf(b, "`zmqchan-old` is zchan as it was at 3cf7a39, before the rewrite, run in the same process and rounds. new / old is the median over rounds of the ratio within each round, as for the ratios to raw pebbe; whether above or below 1 is better is in the measure column. The interval is the 95%% interval of that median that the spread between rounds allows (McGill's notch, 5 rounds or more): the new owner is slower or faster beyond the run-to-run noise only where it excludes 1. Temporary: goes with the variant.\n\n")
	fmt.Fprintf(b, "| case | measure | zmqchan | zmqchan-old | new / old | interval | beyond the noise | allocs/msg new / old |\n|---|---|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rows {
		c := (&Case{Scenario: r.z.Scenario, Transport: r.z.Transport, Size: r.z.Size}).id()
		measure := "msgs/s (higher is better)"
		switch {
		case strings.HasPrefix(r.z.Scenario, "rtt"):
			measure = "median µs (lower is better)"
		case r.z.Scenario == "idle":
			measure = "CPU % of one core (lower is better)"
		case r.z.Scenario == "open-close":
			measure = "open+close µs/socket (lower is better)"
		}
		lowerBetter := !strings.HasPrefix(measure, "msgs/s")
		ratio, allocs, ci, verdict := "", "", "", ""
		if r.z.RatioToOld > 0 {
			ratio = fmt.Sprintf("%.2f", r.z.RatioToOld)
		}
		if iv := r.z.RatioToOldCI; len(iv) == 2 {
			ci = fmt.Sprintf("%.2f–%.2f", iv[0], iv[1])
			verdict = "no"
			if iv[1] < 1 || iv[0] > 1 {
				if (iv[1] < 1) != lowerBetter {
					verdict = "**slower**"
				} else {
					verdict = "faster"
				}
			}
		}
		if r.z.Scenario != "idle" && r.z.Scenario != "open-close" {
			allocs = si(r.z.AllocsPerMsg) + " / " + si(r.o.AllocsPerMsg)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c, measure, si(r.z.headline()), si(r.o.headline()), ratio, ci, verdict, allocs)
	}
	fmt.Fprintln(b)
}
