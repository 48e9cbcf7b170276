package main

import (
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestZZProf(t *testing.T) {
	names := os.Getenv("PROF_VARIANTS")
	if names == "" {
		t.Skip()
	}
	pick := func(name string) *Variant {
		for _, x := range variants() {
			if x.Name == name {
				return x
			}
		}
		t.Fatal(name)
		return nil
	}
	a, b := pick("zmqchan"), pick(names)
	if os.Getenv("PROF_ONLY") != "" {
		a = b
	}
	tr := os.Getenv("PROF_TR")
	n, _ := strconv.Atoi(os.Getenv("PROF_N"))
	rounds, _ := strconv.Atoi(os.Getenv("PROF_ROUNDS"))
	eps, _ := newEndpoints()
	defer eps.Close()
	runTimeoutFlag = time.Minute
	run := func(v *Variant) float64 {
		env, _ := v.New()
		c := &Case{Scenario: "throughput", Transport: tr, Size: 64, N: n, run: runThroughput}
		res, err := c.run(c, v, env, eps)
		if err != nil {
			t.Fatal(err)
		}
		env.Close()
		return float64(res.msgs) / res.w.wall.Seconds()
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	defer func() {
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		msgs := float64(2 * rounds * n)
		t.Logf("per 1k msgs: vcsw %.1f ivcsw %.1f cpu %.3f ms", float64(ru1.Nvcsw-ru0.Nvcsw)/msgs*1000, float64(ru1.Nivcsw-ru0.Nivcsw)/msgs*1000,
			(time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano())).Seconds()*1000/msgs*1000)
	}()
	var ratios []float64
	for i := 0; i < rounds; i++ {
		var x, y float64
		if i%2 == 0 {
			x = run(a)
			y = run(b)
		} else {
			y = run(b)
			x = run(a)
		}
		ratios = append(ratios, x/y)
	}
	sort.Float64s(ratios)
	t.Logf("N=%d zmqchan/%s median %.3f  min %.3f max %.3f", n, names, ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
}
