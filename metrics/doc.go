// Package metrics exposes the counters of this module as Prometheus
// collectors. It is the only package of this module that imports
// github.com/prometheus/client_golang, so that the library's core does not
// depend on it.
//
//	reg.MustRegister(metrics.ForContext(g.ZMQ()))  // every socket of a shutdown.Group's context
//	comps := metrics.NewComponents("", nil)       // pools, chains, monitors, the authenticator
//	metrics.AddStats(comps, "pool", pool.Name(), pool.Stats)
//	metrics.AddStats(comps, "monitor", mon.Name(), mon.Stats)
//	reg.MustRegister(comps)
//
// # Sockets
//
// A Collector reads each socket's zchan.Stats when Prometheus scrapes it:
// it starts no goroutine and keeps no copy of the counters, and a scrape
// costs one atomic load per counter per socket. ForContext (AddContext)
// collects every socket open in a zchan.Context at the time of the scrape,
// registered once for the whole context, the sockets of pipelines and
// devices included; Add and Remove add single sockets by hand, and a
// socket added that way keeps its final counts after it ends until it is
// removed, while one of a context leaves the metrics when it ends.
//
// Each socket's metrics carry its name as the "socket" label, made valid
// UTF-8 as Prometheus requires (each run of invalid bytes becomes
// U+FFFD), so that one oddly named socket never fails a scrape and loses
// the others' metrics. A Collector does not panic: a nil or duplicate
// socket is an error of Add, a socket of a context whose label is already
// in the scrape is left out of it, and a metric Prometheus refuses is sent
// as an invalid metric.
//
// # Components
//
// Components collects anything whose counters are a struct: AddStats takes
// a kind, a name and a function returning the struct, and exports every
// exported integer field, found by reflection, as
// namespace_<kind>_<field_in_snake_case>{name="..."}, so that the metrics
// follow the struct when it gains or loses fields (pipeline's PoolStats,
// ChainStats, monitor.Stats, secure.AuthStats; a Device or a zchan.Merge
// through a small function of the caller's). It is an unchecked collector.
package metrics
