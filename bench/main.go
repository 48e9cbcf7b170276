package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the flags chose.
type config struct {
	quick    bool
	rounds   int
	scenario *regexp.Regexp
	variant  *regexp.Regexp
	out      string
	verbose  bool
}

func run() error {
	var cfg config
	scen := flag.String("scenario", "", "run only the cases whose id (scenario/transport/size) matches this regexp")
	vari := flag.String("variant", "", "run only the variants whose name matches this regexp (raw pebbe always runs, for the ratios)")
	flag.BoolVar(&cfg.quick, "quick", false, "few messages, one round: checks that every variant works (seconds, not minutes)")
	flag.IntVar(&cfg.rounds, "rounds", 0, "rounds of every case; variants alternate within each (default 3, 1 with -quick)")
	flag.StringVar(&cfg.out, "out", "", "directory for results.json, results.md and results.png (default: none written)")
	flag.BoolVar(&cfg.verbose, "v", false, "print every run")
	flag.DurationVar(&runTimeoutFlag, "timeout", runTimeoutFlag, "fail a run that takes longer than this (the idle wait not counted)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile (every allocation sampled) of the whole run to this file")
	from := flag.String("from", "", "do not run: read this results.json and write results.md and results.png beside it (or to -out)")
	childCase := flag.String("child", "", "internal: run this case once in this process and print the result")
	childVariant := flag.String("child-variant", "", "internal: the variant for -child")
	flag.Parse()
	if *childCase != "" {
		return child(*childCase, *childVariant, cfg.quick)
	}
	if *from != "" {
		return replot(*from, cfg.out)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if f, err := os.Create(*memProfile); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	var err error
	if cfg.scenario, err = regexp.Compile(*scen); err != nil {
		return fmt.Errorf("-scenario: %w", err)
	}
	if cfg.variant, err = regexp.Compile(*vari); err != nil {
		return fmt.Errorf("-variant: %w", err)
	}
	if cfg.rounds <= 0 {
		cfg.rounds = 3
		if cfg.quick {
			cfg.rounds = 1
		}
	}

	eps, err := newEndpoints()
	if err != nil {
		return err
	}
	defer eps.Close()

	var vs []*Variant
	for _, v := range variants() {
		if v.Name == rawName || cfg.variant.MatchString(v.Name) {
			vs = append(vs, v)
		}
	}
	var cs []*Case
	for _, c := range cases(cfg.quick) {
		if cfg.scenario.MatchString(c.id()) {
			cs = append(cs, c)
		}
	}
	start := time.Now()
	rep := &report{Machine: machine(), Quick: cfg.quick, Rounds: cfg.rounds, Started: start.UTC().Format(time.RFC3339)}
	for _, v := range vs {
		rep.Variants = append(rep.Variants, variantInfo{Name: v.Name, Doc: v.Doc})
	}
	warmUp(vs, eps)
	aggs := make(map[string]*agg)
	var order []*agg
	failed, thirdParty, runs := 0, 0, 0
	for round := 0; round < cfg.rounds; round++ {
		for _, c := range cs {
			if c.once && round > 0 {
				continue
			}
			// Interleave the variants (A B C A B C ...), starting each round
			// (and each repeat within it) one further along, so that drift
			// of the machine hits all alike. A repeat counts as a round of
			// its own for the paired ratios.
			for j := range c.repeats() {
				for k := range vs {
					v := vs[(k+round+j)%len(vs)]
					if !v.runs(c) {
						continue
					}
					key := c.id() + "/" + v.Name
					a, ok := aggs[key]
					if !ok {
						a = &agg{c: c, v: v}
						aggs[key] = a
						order = append(order, a)
					}
					if why := v.skip(c); why != "" {
						a.skipped = why
						continue
					}
					t0 := time.Now()
					res, err := runOne(c, v, eps, cfg.quick)
					if err != nil && strings.Contains(err.Error(), "address already in use") {
						// A free port picked for tcp was taken by another
						// process before the variant bound it: run again.
						res, err = runOne(c, v, eps, cfg.quick)
					}
					took := time.Since(t0)
					if err != nil {
						if v.ThirdParty {
							thirdParty++
						} else {
							failed++
						}
						a.errs = append(a.errs, err.Error())
						fmt.Fprintf(os.Stderr, "FAIL %s %s: %v\n", c.id(), v.Name, err)
						continue
					}
					res.round = round*c.repeats() + j
					a.runs = append(a.runs, res)
					runs++
					if cfg.verbose {
						fmt.Fprintf(os.Stderr, "%-28s %-13s %6.2fs %s\n", c.id(), v.Name, took.Seconds(), res.short(c))
					}
				}
			}
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.build(order)
	if cfg.quick {
		// The numbers of a quick run mean nothing; what it checks is that
		// every variant ran every case and delivered every message.
		fmt.Printf("bench: quick: %d runs in %.1f s, every message numbered and checked; %d failed, %d failed in third-party libraries\n", runs, rep.Seconds, failed, thirdParty)
	} else {
		fmt.Print(rep.markdown())
	}
	if cfg.out != "" {
		if err := rep.write(cfg.out); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d runs failed", failed)
	}
	return nil
}

// runOne runs case c once with variant v in a fresh env.
func runOne(c *Case, v *Variant, eps *endpoints, quick bool) (result, error) {
	if c.child {
		return runChild(c, v, quick)
	}
	if f := v.Run[c.Scenario]; f != nil {
		runtime.GC()
		return f(c, v, eps)
	}
	env, err := v.New()
	if err != nil {
		return result{}, err
	}
	runtime.GC()
	return c.run(c, v, env, eps)
}

// warmUp runs every variant once, unrecorded, so that the first recorded
// runs do not pay for the process's first threads, page faults and
// connections.
func warmUp(vs []*Variant, eps *endpoints) {
	c := &Case{Scenario: "throughput", Transport: "inproc", Size: 64, N: 5000, run: runThroughput}
	for _, v := range vs {
		if v.New == nil {
			continue
		}
		if t := v.Transports; t != nil {
			c.Transport = t[0]
		}
		runOne(c, v, eps, true)
		c.Transport = "inproc"
	}
}

// replot rewrites the Markdown and the chart of a results.json.
func replot(path, out string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if out == "" {
		out = filepath.Dir(path)
	}
	rep.Targets = rep.targets()
	return rep.write(out)
}
