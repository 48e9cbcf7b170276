package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/examples/internal/exampletest"
	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

var updateRE = regexp.MustCompile(`^(\d{5}) (-?\d+) (\d+)$`)

// TestUpdates runs wuserver bound to a tcp and an ipc endpoint, subscribes
// to one zipcode on each, and checks the format and ranges of what arrives.
func TestUpdates(t *testing.T) {
	tcp, ipc := exampletest.TCP(t), exampletest.IPC(t, "weather.ipc")
	var out exampletest.Output
	server := exampletest.Go(t, "wuserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-bind", tcp + "," + ipc, "-zipcodes", "10"}, &out)
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ep := range []string{tcp, ipc} {
		sub, err := zchan.OpenWith(ctx, zchan.Sub, zchan.String, zchan.WithSubscribe("00003 "), zchan.WithConnect(ep))
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			var u string
			select {
			case u = <-sub.In():
			case <-ctx.Done():
				t.Fatalf("%s: no update: %v", ep, ctx.Err())
			}
			m := updateRE.FindStringSubmatch(u)
			if m == nil || m[1] != "00003" {
				t.Fatalf("%s: update %q, want \"00003 temperature relhumidity\"", ep, u)
			}
			temp, _ := strconv.Atoi(m[2])
			hum, _ := strconv.Atoi(m[3])
			if temp < -80 || temp > 134 || hum < 10 || hum > 59 {
				t.Errorf("%s: update %q out of the guide's ranges", ep, u)
			}
		}
		sub.Close()
	}

	server.Stop()
	if err := server.Wait(t); err != nil {
		t.Fatalf("wuserver after interrupt: %v", err)
	}
	if line := out.WaitFor(t, "Sent ", time.Second); !strings.HasSuffix(line, " updates") {
		t.Errorf("last line %q", line)
	}
	t.Logf("wuserver: %s", out.Lines()[0])
}

func TestBadFlag(t *testing.T) {
	var out exampletest.Output
	err := exampletest.Go(t, "wuserver", time.Minute, func(ctx context.Context) error {
		return run(ctx, []string{"-zipcodes", "0"}, &out)
	}).Wait(t)
	if err == nil {
		t.Error("-zipcodes 0 accepted")
	}
}
