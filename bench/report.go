package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// agg collects the runs of one case by one variant.
type agg struct {
	c       *Case
	v       *Variant
	runs    []result
	errs    []string
	skipped string
}

// Record is one line of results.json: one case (scenario, transport, size)
// by one variant, over all rounds.
type Record struct {
	Scenario  string `json:"scenario"`
	Transport string `json:"transport"`
	Size      int    `json:"size,omitempty"`
	Variant   string `json:"variant"`
	Runs      int    `json:"runs"`
	// Msgs is the number of messages (round trips for rtt-*) measured per run.
	Msgs int `json:"msgs"`
	// MsgsPerSec is the median over runs (round trips per second for rtt-*).
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	// RTT percentiles over every round trip of every run, in microseconds.
	RTTP50us float64 `json:"rtt_p50_us,omitempty"`
	RTTP99us float64 `json:"rtt_p99_us,omitempty"`
	// AllocsPerMsg counts heap allocations of the whole process per message
	// (per round trip for rtt-*), median over runs.
	AllocsPerMsg float64 `json:"allocs_per_msg"`
	// CPUsPerMillion is the CPU time of the whole process (user + system,
	// libzmq's I/O threads included) per million messages, median over runs.
	CPUsPerMillion float64 `json:"cpu_s_per_million"`
	// RatioToRaw compares the case's headline number with raw pebbe/zmq4's
	// in the same run, as the median over rounds of the ratio within each
	// round: msgs_per_sec over raw's for throughput and fan-in
	// (above 1 is faster), rtt_p50_us over raw's for rtt-* (below 1 is
	// faster), cpu over raw's for idle, time per socket over raw's for
	// open-close.
	RatioToRaw float64            `json:"ratio_to_raw"`
	Extra      map[string]float64 `json:"extra,omitempty"`
	Errors     []string           `json:"errors,omitempty"`
	// Skipped says why the variant did not run the case.
	Skipped string `json:"skipped,omitempty"`
}

type variantInfo struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

type report struct {
	Machine  Machine       `json:"machine"`
	Started  string        `json:"started"`
	Seconds  float64       `json:"seconds"`
	Quick    bool          `json:"quick"`
	Rounds   int           `json:"rounds"`
	Variants []variantInfo `json:"variants"`
	Records  []Record      `json:"records"`
	Targets  []Target      `json:"targets"`
}

func (a *agg) record() Record {
	c := a.c
	rec := Record{Scenario: c.Scenario, Transport: c.Transport, Size: c.Size, Variant: a.v.Name, Runs: len(a.runs), Msgs: c.N, Errors: a.errs, Skipped: a.skipped}
	if len(a.runs) == 0 {
		return rec
	}
	var mps, mbps, allocs, cpu []float64
	var rtts []time.Duration
	extra := make(map[string][]float64)
	for _, r := range a.runs {
		sec := r.w.wall.Seconds()
		if r.msgs > 0 && sec > 0 {
			mps = append(mps, float64(r.msgs)/sec)
			mbps = append(mbps, float64(r.bytes)/sec/1e6)
			allocs = append(allocs, float64(r.w.mallocs)/float64(r.msgs))
			cpu = append(cpu, r.w.cpu.Seconds()/float64(r.msgs)*1e6)
		}
		rtts = append(rtts, r.rtts...)
		for k, v := range r.extra {
			extra[k] = append(extra[k], v)
		}
	}
	rec.MsgsPerSec = round3(median(mps))
	rec.MBPerSec = round3(median(mbps))
	rec.AllocsPerMsg = round3(median(allocs))
	rec.CPUsPerMillion = round3(median(cpu))
	if len(rtts) > 0 {
		slices.Sort(rtts)
		rec.RTTP50us = round3(us(percentile(rtts, 50)))
		rec.RTTP99us = round3(us(percentile(rtts, 99)))
	}
	if len(extra) > 0 {
		rec.Extra = make(map[string]float64)
		for k, v := range extra {
			rec.Extra[k] = round3(median(v))
		}
	}
	return rec
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// round3 keeps three significant digits.
func round3(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// headline is the number ratio_to_raw compares.
func (r *Record) headline() float64 {
	switch {
	case strings.HasPrefix(r.Scenario, "rtt"):
		return r.RTTP50us
	case r.Scenario == "idle":
		return r.Extra["cpu_percent"]
	case r.Scenario == "open-close":
		return r.Extra["open_close_us_per_socket"]
	}
	return r.MsgsPerSec
}

func (rep *report) build(order []*agg) {
	raw := make(map[string]*agg)
	for _, a := range order {
		if a.v.Name == rawName {
			raw[a.c.id()] = a
		}
	}
	for _, a := range order {
		rec := a.record()
		// Plain channels have no transport: they compare with raw inproc.
		c := *a.c
		if c.Transport == "chan" {
			c.Transport = "inproc"
		}
		if base := raw[c.id()]; base != nil {
			rec.RatioToRaw = round3(pairedRatio(a, base))
		}
		rep.Records = append(rep.Records, rec)
	}
	rep.Targets = rep.targets()
}

// pairedRatio is the median over rounds of a's headline over raw's in the
// same round: runs of one round ran next to each other, so the pairing
// cancels most of the machine's drift. Without rounds in common it is the
// ratio of the two records' headlines.
func pairedRatio(a, raw *agg) float64 {
	if ratios := pairedRatios(a, raw); len(ratios) > 0 && len(a.runs) > 1 {
		return median(ratios)
	}
	ra, rb := a.record(), raw.record()
	if b := rb.headline(); b > 0 {
		return ra.headline() / b
	}
	return 0
}

// pairedRatios is a's headline over raw's, one per round both ran.
func pairedRatios(a, raw *agg) []float64 {
	byRound := make(map[int]float64)
	for _, r := range raw.runs {
		if h := r.headline(a.c.Scenario); h > 0 {
			byRound[r.round] = h
		}
	}
	var ratios []float64
	for _, r := range a.runs {
		if b, ok := byRound[r.round]; ok {
			if h := r.headline(a.c.Scenario); h > 0 {
				ratios = append(ratios, h/b)
			}
		}
	}
	return ratios
}

// headline is the number ratio_to_raw compares, for one run.
func (r result) headline(scenario string) float64 {
	switch {
	case strings.HasPrefix(scenario, "rtt"):
		return us(percentile(r.rtts, 50))
	case scenario == "idle":
		return r.extra["cpu_percent"]
	case scenario == "open-close":
		return r.extra["open_close_us_per_socket"]
	}
	if r.msgs == 0 || r.w.wall <= 0 {
		return 0
	}
	return float64(r.msgs) / r.w.wall.Seconds()
}

func (rep *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	return rep.chart(filepath.Join(dir, "results.png"))
}
