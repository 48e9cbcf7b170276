package zmqchan_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zmqchan/zmqchan/zchan"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPushPullInproc sends numbered messages through a PUSH/PULL pair and
// checks that each arrives once, in order.
func TestPushPullInproc(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	zc, err := zchan.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := zc.Term(ctx); err != nil {
			t.Error(err)
		}
	}()
	pull, err := zchan.OpenWith(ctx, zchan.Pull, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithBind("inproc://e2e"))
	if err != nil {
		t.Fatal(err)
	}
	defer pull.Close()
	push, err := zchan.OpenWith(ctx, zchan.Push, zchan.JSON[int](), zchan.WithContext(zc), zchan.WithConnect("inproc://e2e"))
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	const n = 10000
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if err := push.Send(ctx, i); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < n; i++ {
		select {
		case v := <-pull.In():
			if v != i {
				t.Fatalf("got %d, want %d", v, i)
			}
		case <-ctx.Done():
			t.Fatalf("timed out at %d", i)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
