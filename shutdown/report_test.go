package shutdown_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zmqchan/zmqchan/shutdown"
)

// TestReportTable checks the table's layout on a report with every kind of
// row: the cause on the first line (not repeated in the begin row),
// aligned columns, "-" for a stage without a count, an error, a link, and
// the totals, which sum the counts.
func TestReportTable(t *testing.T) {
	r := &shutdown.Report{
		Cause: &shutdown.SignalError{Signal: sigint{}},
		Steps: []shutdown.Step{
			{Action: shutdown.StepBegin, Err: &shutdown.SignalError{Signal: sigint{}}},
			{Action: shutdown.StepStop, Name: "ventilator", Took: 3 * time.Microsecond},
			{Action: shutdown.StepShutdown, Name: "pool", Took: 1234567 * time.Nanosecond, Undelivered: 7, HasCount: true},
			{Action: shutdown.StepSettle, Name: "pool", Took: 50 * time.Millisecond},
			{Action: shutdown.StepShutdown, Name: "sink", Took: time.Millisecond, Undelivered: 5, HasCount: true,
				Err: fmt.Errorf("%w: sink", shutdown.ErrDrainTimeout)},
			{Action: shutdown.StepTerm, Took: 2 * time.Millisecond},
		},
		Links: []shutdown.Link{{Senders: []string{"a"}, Receivers: []string{"b"}, Endpoints: []string{"inproc://x"},
			Sent: 10, Received: 9, Lost: 1, Exact: true}},
		Took: 1500 * time.Millisecond,
	}
	want := `cause: shutdown: signal interrupt; took 1.5s
  STEP      STAGE       TOOK     UNDELIVERED  ERROR
  begin                 0s       -
  stop      ventilator  3µs      -
  shutdown  pool        1.235ms  7
  settle    pool        50ms     -
  shutdown  sink        1ms      5            shutdown: drain deadline passed: sink
  term                  2ms      -
  link a -> b [inproc://x]: sent 10, received 9, lost 1
  undelivered 12, lost in transit 1
`
	if got := r.Table(); got != want {
		t.Errorf("Table() =\n%s\nwant\n%s", got, want)
	}
	if errors.Is(r.Cause, shutdown.ErrSignal) == false {
		t.Fatal("cause is not a signal")
	}
}

// sigint is an os.Signal with a fixed name, so the expected text does not
// depend on the platform's.
type sigint struct{}

func (sigint) String() string { return "interrupt" }
func (sigint) Signal()        {}
