// Package metrics exposes the counters of zchan sockets (zchan.Stats) as a
// Prometheus collector. It is the only package of this module that
// imports github.com/prometheus/client_golang, so that the library's core
// does not depend on it.
//
// A Collector reads each socket's Stats when Prometheus scrapes it: it
// starts no goroutine and keeps no copy of the counters, and a scrape
// costs one atomic load per counter per socket. Sockets are added and
// removed by the caller; a socket that has ended keeps its final counts
// until it is removed.
//
// Each socket's metrics carry its name as the "socket" label, made valid
// UTF-8 as Prometheus requires (each run of invalid bytes becomes
// U+FFFD), so that one oddly named socket never fails a scrape and loses
// the others' metrics. A Collector does not panic: a nil or duplicate
// socket is an error of Add, and a metric Prometheus refuses is sent as
// an invalid metric.
package metrics
