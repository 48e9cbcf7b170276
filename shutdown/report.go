package shutdown

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Action names a step of shutdown.
type Action string

// The steps of shutdown, in the order they happen.
const (
	// StepBegin records why shutdown began (Report.Cause).
	StepBegin Action = "begin"
	// StepStop records a function stage: its context was cancelled and it
	// returned (or the drain deadline passed).
	StepStop Action = "stop"
	// StepShutdown records a component stage: its Shutdown returned, with
	// the component's undelivered count (or the group gave up waiting:
	// see StepStraggle).
	StepShutdown Action = "shutdown"
	// StepSettle records the wait for the Progress of the components not
	// yet shut down to go still after a Shutdown returned.
	StepSettle Action = "settle"
	// StepLeftOpen records the zchan sockets of the context that no component
	// closed, found just before termination.
	StepLeftOpen Action = "left-open"
	// StepDeliver records the lossless drain's wait, before a sending
	// socket's Shutdown, for its link's receivers to take what the link's
	// senders sent (WithLosslessDrain).
	StepDeliver Action = "deliver"
	// StepTerm records the termination of the zmq context.
	StepTerm Action = "term"
	// StepStraggle records a stage the group stopped waiting for, waited
	// for again after the termination: a function still running at the
	// drain deadline (or whose turn came after it), or a component whose
	// Shutdown had not returned the term timeout past its deadline; with
	// the component's undelivered count if it has returned by then.
	StepStraggle Action = "straggle"
	// StepTransit records, last, a link that lost messages in transit:
	// its Err wraps ErrLostInTransit and says how many and why (see
	// Link).
	StepTransit Action = "transit"
)

// Step is one thing that happened during shutdown.
type Step struct {
	// Action is what the step did.
	Action Action
	// Name is the stage's name (empty for StepBegin, StepLeftOpen and
	// StepTerm).
	Name string
	// Took is how long the step took.
	Took time.Duration
	// Undelivered is, for StepShutdown and StepStraggle, the component's
	// count of messages it could not deliver (its Undelivered method, read
	// once its Shutdown has returned); HasCount tells whether it has one.
	Undelivered uint64
	HasCount    bool
	// Err is what went wrong, if anything (for StepBegin: the cause).
	Err error
}

// String formats the step on one line: action, stage, duration, count,
// error.
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(string(s.Action))
	if s.Name != "" {
		b.WriteString(" " + s.Name)
	}
	fmt.Fprintf(&b, " (%v)", s.Took.Round(time.Microsecond))
	if s.HasCount {
		fmt.Fprintf(&b, " undelivered=%d", s.Undelivered)
	}
	if s.Err != nil {
		b.WriteString(": " + s.Err.Error())
	}
	return b.String()
}

// Report is what happened during a Group's shutdown, in order. It is
// complete once Wait returns and is not modified afterwards.
type Report struct {
	// Cause is why shutdown began: the parent context's cause (a
	// *SignalError after a signal), ErrShutdown, an error wrapping
	// ErrStage and the error of the function stage that failed (or
	// zchan.ErrPanic, with the panic value and the stack, for one that
	// panicked), or an error wrapping zchan.ErrTerminated when the context
	// was terminated from elsewhere.
	Cause error
	// Steps lists the steps in the order they happened.
	Steps []Step
	// Links lists the links between the group's sockets, found by their
	// endpoints, with what one end sent and the other received (see
	// Link), and each socket with endpoints but no peer in the group.
	Links []Link
	// Took is the time from the start of shutdown to the end of Wait.
	Took time.Duration
}

// TotalLost sums the messages lost in transit over every link whose count
// is exact.
func (r *Report) TotalLost() uint64 {
	var n uint64
	for _, l := range r.Links {
		n += l.Lost
	}
	return n
}

// Undelivered returns the undelivered count of each component that reports
// one, by name (components with the same name are summed).
func (r *Report) Undelivered() map[string]uint64 {
	m := make(map[string]uint64)
	for _, s := range r.Steps {
		if (s.Action == StepShutdown || s.Action == StepStraggle) && s.HasCount {
			m[s.Name] += s.Undelivered
		}
	}
	return m
}

// TotalUndelivered sums the undelivered counts of all components.
func (r *Report) TotalUndelivered() uint64 {
	var n uint64
	for _, v := range r.Undelivered() {
		n += v
	}
	return n
}

// String lists the steps, one a line.
func (r *Report) String() string {
	var b strings.Builder
	for _, s := range r.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	for _, l := range r.Links {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "took %v", r.Took.Round(time.Microsecond))
	return b.String()
}

// Table formats the report for a person reading a terminal: why shutdown
// began and how long it took, then one row per step (what, which stage,
// how long, its undelivered count, "-" for a stage without one, and what
// went wrong), the links between the group's sockets, and the totals.
// Columns are aligned with spaces; the text ends with a newline.
func (r *Report) Table() string {
	var b strings.Builder
	cause := "none"
	if r.Cause != nil {
		cause = r.Cause.Error()
	}
	fmt.Fprintf(&b, "cause: %s; took %v\n", cause, r.Took.Round(time.Millisecond))
	var rows strings.Builder
	tw := tabwriter.NewWriter(&rows, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tSTAGE\tTOOK\tUNDELIVERED\tERROR")
	for _, s := range r.Steps {
		count := "-"
		if s.HasCount {
			count = strconv.FormatUint(s.Undelivered, 10)
		}
		errText := ""
		if s.Err != nil && s.Action != StepBegin { // the begin step's error is the cause, above
			errText = s.Err.Error()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%v\t%s\t%s\n", s.Action, s.Name, s.Took.Round(time.Microsecond), count, errText)
	}
	tw.Flush()
	for line := range strings.Lines(rows.String()) { // no padding after the last column
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	for _, l := range r.Links {
		b.WriteString("  " + l.String() + "\n")
	}
	fmt.Fprintf(&b, "  undelivered %d, lost in transit %d\n", r.TotalUndelivered(), r.TotalLost())
	return b.String()
}
