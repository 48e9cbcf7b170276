package metrics

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zmqchan/zmqchan/zchan"
)

// Sentinel errors.
var (
	// ErrDuplicate reports an Add of a socket whose name is already
	// collected: the "socket" label would not tell them apart.
	ErrDuplicate = errors.New("metrics: duplicate socket name")
	// ErrNilSource reports an Add of a nil Source.
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
}

// Collector is a prometheus.Collector of the counters of a set of
// sockets, each labelled socket="<name>". It is safe for concurrent use.
// Its zero value is not usable: create one with NewCollector.
type Collector struct {
	descs []*prometheus.Desc // in the order of counters

	mu      sync.Mutex
	sources map[string]Source
}

// NewCollector returns a Collector whose metrics are named
// namespace_<counter>, such as "zmqchan_messages_received_total"; an
// empty namespace means "zmqchan". constLabels are added to every metric
// (nil for none).
func NewCollector(namespace string, constLabels prometheus.Labels) *Collector {
	if namespace == "" {
		namespace = "zmqchan"
	}
	c := &Collector{sources: make(map[string]Source)}
	for _, k := range counters {
		c.descs = append(c.descs, prometheus.NewDesc(
			prometheus.BuildFQName(namespace, "", k.name), k.help, []string{"socket"}, constLabels))
	}
	return c
}

// Add collects s from the next scrape on. It fails with ErrDuplicate if a
// socket of the same name is collected already.
func (c *Collector) Add(s Source) error {
	if s == nil {
		return ErrNilSource
	}
	name := s.Name()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sources[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	c.sources[name] = s
	return nil
}

// Remove stops collecting the socket named name; it reports whether it
// was collected.
func (c *Collector) Remove(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.sources[name]
	delete(c.sources, name)
	return ok
}

// Describe sends the descriptors of every metric. It implements
// prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads the Stats of every collected socket and sends one counter
// per field. It implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	names := make([]string, 0, len(c.sources))
	for n := range c.sources {
		names = append(names, n)
	}
	slices.Sort(names)
	srcs := make([]Source, len(names))
	for i, n := range names {
		srcs[i] = c.sources[n]
	}
	c.mu.Unlock()
	for i, s := range srcs {
		st := s.Stats()
		for j, k := range counters {
			ch <- prometheus.MustNewConstMetric(c.descs[j], prometheus.CounterValue, float64(k.get(st)), names[i])
		}
	}
}
