package metrics

import (
	"reflect"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zmqchan/zmqchan/shutdown"
	"github.com/zmqchan/zmqchan/zchan"
)

// GroupCollector is a prometheus.Collector of everything in a
// shutdown.Group: every socket open in the group's zmq context, as
// ForContext collects them, and the stats of every component added to the
// group, found at each scrape. Register it once, after New; sockets
// opened and components added later appear at the next scrape with no
// Add.
//
// A component is collected if it has a method Stats() S where S is a
// struct, or a pointer to one, with at least one exported integer field
// (pipeline's Pool and Chain, reqrep's Client and Server, or a type of the
// caller's; a monitor.Monitor or a secure.Authenticator is not a
// shutdown.Component, so collect it with Components). The method is found
// by reflection, not by a list of known types. Each such field is one
// untyped metric, as Components makes them:
// zmqchan_<kind>_<field in snake_case>{name="<Name()>"}, where kind is
// the component's type name lower-cased, without its package or type
// parameters: a *pipeline.Pool[Task, Result] is "pool"
// (zmqchan_pool_submitted), a *reqrep.Server[Req, Rep] is "server", a
// *reqrep.Client[Req, Rep] is "client". Left out are: components with no such
// Stats; zchan sockets (their Stats is zchan.Stats, collected once as
// sockets already, so that no socket is counted twice); components whose
// type name does not make a kind of the form [a-zA-Z_][a-zA-Z0-9_]*; and a
// component whose kind and name are those of one collected earlier in the
// same scrape, since a repeated label fails the whole scrape. Do not also
// add a group's components to a Components registered in the same
// registry: their metrics would be repeated.
//
// The set of metrics is known only at each scrape, so GroupCollector is
// an unchecked collector (Describe sends nothing): Prometheus requires a
// checked collector (one whose Describe sends descriptors) to collect only
// the metrics it described at Register, and a pedantic registry refuses
// any other, so the metrics of a component added after Register could
// not be sent. It
// is safe for concurrent use, starts no goroutine, and a scrape calls each
// component's Stats once. Collect does not panic: a Stats (or a Name) that
// panics is sent as an invalid metric carrying the panic, which fails that
// scrape, as in Components.
type GroupCollector struct {
	g       *shutdown.Group
	sockets *Collector
	descs   descSet

	mu    sync.Mutex
	kinds map[reflect.Type]*groupKind // nil for a type that is not collected
}

// groupKind is what a component type's Stats method gives.
type groupKind struct {
	kind   string
	method int // index of Stats in the type's method set
	shape  shape
	descs  []*prometheus.Desc
}

// ForGroup returns the collector of every socket and component of g (see
// GroupCollector); register it once:
//
//	reg.MustRegister(metrics.ForGroup(g))
//
// Its metrics are named as those of NewCollector("", nil) for the sockets
// and NewComponents("", nil) for the components. A nil g collects nothing.
func ForGroup(g *shutdown.Group) *GroupCollector {
	gc := &GroupCollector{g: g, sockets: NewCollector("", nil), descs: newDescSet("", nil),
		kinds: make(map[reflect.Type]*groupKind)}
	if g != nil {
		gc.sockets.AddContext(g.ZMQ())
	}
	return gc
}

// Describe sends nothing: GroupCollector is an unchecked collector (see
// the type's doc). It implements prometheus.Collector.
func (gc *GroupCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the metrics of every socket open in the group's context
// and of every component of the group with a Stats method (see the
// type's doc). It implements prometheus.Collector.
func (gc *GroupCollector) Collect(ch chan<- prometheus.Metric) {
	if gc.g == nil {
		return
	}
	gc.sockets.Collect(ch)
	seen := make(map[compKey]bool)
	for _, c := range gc.g.Components() {
		v := reflect.ValueOf(c)
		k := gc.kindOf(v.Type())
		if k == nil {
			continue
		}
		name, err := snapshot(func() reflect.Value { return reflect.ValueOf(c.Name()) })
		if err != nil {
			// Name panicked: no label to give, so the first field's
			// family carries the error.
			ch <- prometheus.NewInvalidMetric(k.descs[0], err)
			continue
		}
		key := compKey{k.kind, label(name.String())}
		if seen[key] {
			continue
		}
		seen[key] = true
		m := v.Method(k.method)
		k.shape.send(ch, k.descs, key.name, func() reflect.Value { return m.Call(nil)[0] })
	}
}

var (
	zchanStats    = reflect.TypeFor[zchan.Stats]()
	zchanStatsPtr = reflect.TypeFor[*zchan.Stats]()
)

// kindOf is what components of type t give, found once per type; nil if
// they are not collected.
func (gc *GroupCollector) kindOf(t reflect.Type) *groupKind {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if k, ok := gc.kinds[t]; ok {
		return k
	}
	k := gc.newKind(t)
	gc.kinds[t] = k
	return k
}

func (gc *GroupCollector) newKind(t reflect.Type) *groupKind {
	m, ok := t.MethodByName("Stats")
	if !ok || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 { // the receiver is In(0)
		return nil
	}
	out := m.Type.Out(0)
	if out == zchanStats || out == zchanStatsPtr {
		return nil
	}
	sh, err := shapeOf(out)
	if err != nil {
		return nil
	}
	kind := kindName(t)
	if !kindRE.MatchString(kind) {
		return nil
	}
	return &groupKind{kind: kind, method: m.Index, shape: sh, descs: gc.descs.of(kind, sh)}
}

// kindName is t's name lower-cased, without its type parameters, for t or
// the type t points to: "pool" for *pipeline.Pool[int, string].
func kindName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n, _, _ := strings.Cut(t.Name(), "[")
	return strings.ToLower(n)
}
