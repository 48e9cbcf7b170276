package metrics

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrNotStats reports an AddStats whose kind is not a valid metric name
// part, or whose stats type is not a struct with at least one exported
// integer field.
var ErrNotStats = errors.New("metrics: not a stats struct")

// Components is a prometheus.Collector of the counters of anything that
// reports them as a struct: a pipeline Pool or Chain (PoolStats,
// ChainStats), a monitor.Monitor (monitor.Stats), a secure.Authenticator
// (AuthStats), a zchan.Merge or a Device through a function of the
// caller's. Each exported integer field of the struct becomes one metric,
// named namespace_<kind>_<field in snake_case> ("zmqchan_pool_submitted",
// "zmqchan_monitor_handshake_failures") and labelled name="<name>"; other
// fields (bools, strings, nested structs) are left out. The fields are
// found by reflection when AddStats is called, so a Stats struct that
// gains or loses fields needs no change here: the metrics follow it.
// Their type is untyped, since a field may be a count or a level.
//
// The set of metrics is known only as components are added, so Components
// is an unchecked collector (Describe sends nothing): a registry does not
// check its metrics against descriptors at Register. It is safe for
// concurrent use; its zero value is not usable (NewComponents), and it
// must not be copied. Collect does not panic: a stats function that
// panics is sent as an invalid metric carrying the panic, which fails
// that scrape.
type Components struct {
	descs descSet

	mu    sync.Mutex
	comps map[compKey]*component
}

type compKey struct{ kind, name string }

type component struct {
	shape shape
	descs []*prometheus.Desc // one per shape.fields
	read  func() reflect.Value
}

// NewComponents returns an empty Components whose metrics are named
// namespace_<kind>_<field>; an empty namespace means "zmqchan".
// constLabels are added to every metric (nil for none); ones Prometheus
// refuses make each metric invalid, as for NewCollector.
func NewComponents(namespace string, constLabels prometheus.Labels) *Components {
	if namespace == "" {
		namespace = "zmqchan"
	}
	return &Components{descs: newDescSet(namespace, constLabels), comps: make(map[compKey]*component)}
}

var kindRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// AddStats collects, from the next scrape on, the exported integer fields
// of what stats returns, labelled name="<name>" (made valid UTF-8 as
// Collector.Add does), under metric names with kind in them:
//
//	metrics.AddStats(comps, "pool", pool.Name(), pool.Stats)
//	metrics.AddStats(comps, "monitor", mon.Name(), mon.Stats)
//	metrics.AddStats(comps, "auth", "zap", auth.Stats)
//
// stats is called at each scrape and must be safe for concurrent use. It
// fails with ErrNilSource for a nil stats, ErrNotStats if kind is not of
// the form [a-zA-Z_][a-zA-Z0-9_]* or S is not a struct (or pointer to
// one) with an exported integer field, and ErrDuplicate if kind and name
// are collected already.
func AddStats[S any](c *Components, kind, name string, stats func() S) error {
	if stats == nil {
		return ErrNilSource
	}
	if !kindRE.MatchString(kind) {
		return fmt.Errorf("%w: kind %q", ErrNotStats, kind)
	}
	sh, err := shapeOf(reflect.TypeFor[S]())
	if err != nil {
		return err
	}
	name = label(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	key := compKey{kind, name}
	if _, ok := c.comps[key]; ok {
		return fmt.Errorf("%w: %s %q", ErrDuplicate, kind, name)
	}
	c.comps[key] = &component{shape: sh, descs: c.descs.of(kind, sh),
		read: func() reflect.Value { return reflect.ValueOf(stats()) }}
	return nil
}

// shape is what reflection finds in a stats type: the struct, whether it
// comes as a pointer to it, and the indices of its exported integer
// fields. AddStats and GroupCollector both use it.
type shape struct {
	typ    reflect.Type // a struct
	ptr    bool
	fields []int
}

// shapeOf is the shape of t, or ErrNotStats if t is not a struct (or a
// pointer to one) with an exported integer field.
func shapeOf(t reflect.Type) (shape, error) {
	sh := shape{typ: t}
	if t.Kind() == reflect.Pointer {
		sh.ptr, sh.typ = true, t.Elem()
	}
	if sh.typ.Kind() != reflect.Struct {
		return shape{}, fmt.Errorf("%w: %v", ErrNotStats, t)
	}
	for i := range sh.typ.NumField() {
		if f := sh.typ.Field(i); f.IsExported() && isInteger(f.Type.Kind()) {
			sh.fields = append(sh.fields, i)
		}
	}
	if len(sh.fields) == 0 {
		return shape{}, fmt.Errorf("%w: %v has no exported integer field", ErrNotStats, sh.typ)
	}
	return sh, nil
}

// send reads the stats of one component with read (a value of the
// shape's type; a nil pointer reads as the zero struct) and sends one
// untyped metric per field, labelled name. A read that panics makes every
// one of them an invalid metric carrying the panic, as does a metric
// Prometheus refuses.
func (sh shape) send(ch chan<- prometheus.Metric, descs []*prometheus.Desc, name string, read func() reflect.Value) {
	v, err := snapshot(read)
	if err == nil && sh.ptr {
		if v.IsNil() {
			v = reflect.Zero(sh.typ)
		} else {
			v = v.Elem()
		}
	}
	for j, i := range sh.fields {
		var m prometheus.Metric
		if err != nil {
			m = prometheus.NewInvalidMetric(descs[j], err)
		} else {
			fv := v.Field(i)
			var x float64
			if fv.CanInt() {
				x = float64(fv.Int())
			} else {
				x = float64(fv.Uint())
			}
			var merr error
			if m, merr = prometheus.NewConstMetric(descs[j], prometheus.UntypedValue, x, name); merr != nil {
				m = prometheus.NewInvalidMetric(descs[j], merr)
			}
		}
		ch <- m
	}
}

// snapshot calls read, a panic recovered into an error.
func snapshot(read func() reflect.Value) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("metrics: stats function panicked: %v", r)
		}
	}()
	return read(), nil
}

// descSet holds one descriptor per metric name, the first one made for
// it, so that every component with a field of that name (whatever its
// stats type) is in one family with one help text, as a registry
// requires. It is safe for concurrent use.
type descSet struct {
	namespace   string
	constLabels prometheus.Labels

	mu    sync.Mutex
	descs map[string]*prometheus.Desc // by metric name
}

func newDescSet(namespace string, constLabels prometheus.Labels) descSet {
	if namespace == "" {
		namespace = "zmqchan"
	}
	return descSet{namespace: namespace, constLabels: constLabels, descs: make(map[string]*prometheus.Desc)}
}

// of returns the descriptors of the fields of sh, for kind.
func (d *descSet) of(kind string, sh shape) []*prometheus.Desc {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*prometheus.Desc, 0, len(sh.fields))
	for _, i := range sh.fields {
		f := sh.typ.Field(i)
		fq := prometheus.BuildFQName(d.namespace, kind, snake(f.Name))
		desc, ok := d.descs[fq]
		if !ok {
			desc = prometheus.NewDesc(fq, fmt.Sprintf("%s.%s of the %s.", sh.typ.Name(), f.Name, kind),
				[]string{"name"}, d.constLabels)
			d.descs[fq] = desc
		}
		out = append(out, desc)
	}
	return out
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// snake turns a Go field name into snake_case: "HandshakeFailures" is
// "handshake_failures", "MsgsIn" "msgs_in", "TCPConns" "tcp_conns".
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// Remove stops collecting the component of that kind and name; it reports
// whether it was collected.
func (c *Components) Remove(kind, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := compKey{kind, label(name)}
	_, ok := c.comps[key]
	delete(c.comps, key)
	return ok
}

// Describe sends nothing: Components is an unchecked collector (see the
// type's doc). It implements prometheus.Collector.
func (c *Components) Describe(chan<- *prometheus.Desc) {}

// Collect calls every component's stats function and sends one metric per
// field. It implements prometheus.Collector.
func (c *Components) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	keys := make([]compKey, 0, len(c.comps))
	for k := range c.comps {
		keys = append(keys, k)
	}
	comps := make([]*component, 0, len(keys))
	slices.SortFunc(keys, func(a, b compKey) int {
		if a.kind != b.kind {
			return strings.Compare(a.kind, b.kind)
		}
		return strings.Compare(a.name, b.name)
	})
	for _, k := range keys {
		comps = append(comps, c.comps[k])
	}
	c.mu.Unlock()
	for i, comp := range comps {
		comp.shape.send(ch, comp.descs, keys[i].name, comp.read)
	}
}
