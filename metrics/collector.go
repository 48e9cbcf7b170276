package metrics

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zmqchan/zmqchan/zchan"
)

// Sentinel errors.
var (
	// ErrDuplicate reports an Add of a socket whose label (its name, made
	// valid UTF-8: see Collector.Add) is already collected: the "socket"
	// label would not tell them apart.
	ErrDuplicate = errors.New("metrics: duplicate socket name")
	// ErrNilSource reports an Add of a nil Source, or of a nil pointer
	// (such as the *zchan.Socket of a failed Open).
	ErrNilSource = errors.New("metrics: nil source")
)

// Source is a socket whose counters can be collected. Every
// *zchan.Socket[T] is a Source.
type Source interface {
	Name() string
	Stats() zchan.Stats
}

// counter is one metric: its name, help and the Stats field it reads.
type counter struct {
	name, help string
	get        func(zchan.Stats) uint64
}

var counters = []counter{
	{"messages_received_total", "Messages received from the socket and handed to the consumer.", func(s zchan.Stats) uint64 { return s.MsgsIn }},
	{"received_bytes_total", "Bytes of the messages received, summed over frames.", func(s zchan.Stats) uint64 { return s.BytesIn }},
	{"messages_sent_total", "Messages accepted by libzmq for sending.", func(s zchan.Stats) uint64 { return s.MsgsOut }},
	{"sent_bytes_total", "Bytes of the messages sent, summed over frames.", func(s zchan.Stats) uint64 { return s.BytesOut }},
	{"decode_errors_total", "Inbound messages the codec could not decode.", func(s zchan.Stats) uint64 { return s.DecodeErrors }},
	{"too_many_frames_total", "Inbound messages discarded for exceeding the frame cap.", func(s zchan.Stats) uint64 { return s.TooManyFrames }},
	{"dropped_total", "Inbound messages dropped because the consumer was slow.", func(s zchan.Stats) uint64 { return s.Dropped }},
	{"send_stalls_total", "Times a send had to wait for the high-water mark or a peer.", func(s zchan.Stats) uint64 { return s.SendStalls }},
	{"undelivered_total", "Messages the socket held when it ended and could not deliver.", func(s zchan.Stats) uint64 { return s.Undelivered }},
	{"messages_accepted_total", "Messages Send accepted.", func(s zchan.Stats) uint64 { return s.Accepted }},
	{"messages_taken_total", "Messages the owner took off the socket, whatever became of them.", func(s zchan.Stats) uint64 { return s.Received }},
	{"unroutable_total", "Outbound messages for a peer that does not exist (EHOSTUNREACH).", func(s zchan.Stats) uint64 { return s.Unroutable }},
}

// Collector is a prometheus.Collector of the counters of a set of
// sockets, each labelled socket="<name>". It is safe for concurrent use.
// Its zero value is usable, as NewCollector("", nil); it must not be
// copied after first use.
type Collector struct {
	once  sync.Once
	descs []*prometheus.Desc // in the order of counters; set by once

	mu       sync.Mutex
	sources  map[string]Source // by label
	contexts []*zchan.Context  // whose open sockets are read at each scrape
}

// ForContext returns a Collector of every socket open in zc, read at each
// scrape (zchan.Context.SocketStats): register it once, and the sockets
// opened in zc later, by hand or by a pipeline's Pool, Chain or Device,
// are collected with no Add. A socket leaves the metrics when it ends. It
// is NewCollector("", nil) with AddContext(zc). For a shutdown.Group, use
// ForContext(g.ZMQ()).
func ForContext(zc *zchan.Context) *Collector {
	c := NewCollector("", nil)
	c.AddContext(zc)
	return c
}

// AddContext collects, from the next scrape on, every socket open in zc at
// the time of each scrape, labelled as Add labels a socket. A socket whose
// label is already in the scrape (added with Add, or of the same name as
// another socket of the contexts) is left out of it, since a repeated
// label fails the whole scrape: give sockets distinct names (the default
// names, such as "PULL#3", are). A nil zc is ignored.
func (c *Collector) AddContext(zc *zchan.Context) {
	if zc == nil {
		return
	}
	c.ready()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.contexts, zc) {
		c.contexts = append(c.contexts, zc)
	}
}

// NewCollector returns a Collector whose metrics are named
// namespace_<counter>, such as "zmqchan_messages_received_total"; an
// empty namespace means "zmqchan". constLabels are added to every metric
// (nil for none). A namespace or constLabels that Prometheus refuses (a
// constant label named "socket", a label value that is not UTF-8, ...)
// makes Register fail with Prometheus's error, and a Collect that is not
// through a registry sends invalid metrics (prometheus.NewInvalidMetric)
// that carry it; nothing panics.
func NewCollector(namespace string, constLabels prometheus.Labels) *Collector {
	c := &Collector{}
	c.once.Do(func() { c.init(namespace, constLabels) })
	return c
}

func (c *Collector) init(namespace string, constLabels prometheus.Labels) {
	if namespace == "" {
		namespace = "zmqchan"
	}
	c.sources = make(map[string]Source)
	for _, k := range counters {
		c.descs = append(c.descs, prometheus.NewDesc(
			prometheus.BuildFQName(namespace, "", k.name), k.help, []string{"socket"}, constLabels))
	}
}

// ready makes a zero Collector one of NewCollector("", nil).
func (c *Collector) ready() { c.once.Do(func() { c.init("", nil) }) }

// label is the value of the "socket" label for a socket named name.
// Prometheus label values must be UTF-8, and a zchan socket name need not
// be: each run of invalid bytes becomes U+FFFD. Replacing is chosen over
// sending prometheus.NewInvalidMetric for such a socket because an
// invalid metric fails the whole Gather, and promhttp's default
// (HTTPErrorOnError) answers that scrape with a 500: every other socket's
// metrics would be lost with it. (A panic, which the registry recovers,
// fails the Gather the same way.) Two names that differ only in their
// invalid bytes get the same label, which Add refuses (ErrDuplicate),
// since a repeated label fails the whole Gather too.
func label(name string) string { return strings.ToValidUTF8(name, "\uFFFD") }

// Add collects s from the next scrape on, labelled with its name made
// valid UTF-8 (each run of invalid bytes replaced by U+FFFD, as
// strings.ToValidUTF8 does). It fails with ErrNilSource if s is nil or a
// nil pointer, and with ErrDuplicate if a socket with the same label is
// collected already.
func (c *Collector) Add(s Source) error {
	if s == nil {
		return ErrNilSource
	}
	if v := reflect.ValueOf(s); v.Kind() == reflect.Pointer && v.IsNil() {
		// Its Name and Stats would panic, at every scrape for Stats.
		return fmt.Errorf("%w: nil %T", ErrNilSource, s)
	}
	c.ready()
	name := label(s.Name())
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sources[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	c.sources[name] = s
	return nil
}

// Remove stops collecting the socket named name (the socket's own name,
// or its label); it reports whether it was collected.
func (c *Collector) Remove(name string) bool {
	c.ready()
	name = label(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.sources[name]
	delete(c.sources, name)
	return ok
}

// Describe sends the descriptors of every metric. It implements
// prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.ready()
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads the Stats of every collected socket and sends one counter
// per field. It implements prometheus.Collector. It does not panic: a
// metric Prometheus refuses (see NewCollector) is sent as an invalid
// metric carrying the error.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.ready()
	c.mu.Lock()
	names := make([]string, 0, len(c.sources))
	for n := range c.sources {
		names = append(names, n)
	}
	slices.Sort(names)
	stats := make([]zchan.Stats, 0, len(names))
	srcs := make([]Source, len(names))
	for i, n := range names {
		srcs[i] = c.sources[n]
	}
	contexts := slices.Clone(c.contexts)
	c.mu.Unlock()
	for _, s := range srcs {
		stats = append(stats, s.Stats())
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		seen[n] = true
	}
	for _, zc := range contexts {
		for _, s := range zc.SocketStats() {
			if n := label(s.Name); !seen[n] {
				seen[n] = true
				names = append(names, n)
				stats = append(stats, s.Stats)
			}
		}
	}
	for i, st := range stats {
		for j, k := range counters {
			m, err := prometheus.NewConstMetric(c.descs[j], prometheus.CounterValue, float64(k.get(st)), names[i])
			if err != nil {
				m = prometheus.NewInvalidMetric(c.descs[j], err)
			}
			ch <- m
		}
	}
}
