// Package metrics exposes the counters of this module as Prometheus
// collectors. It is the only package of this module that imports
// github.com/prometheus/client_golang, so that the library's core does not
// depend on it.
//
//	g, err := shutdown.New(ctx)
//	...
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.ForGroup(g)) // once: every socket and component of g, now or later
//	pool, err := pipeline.NewPool(ctx, square, pipeline.WithContext(g.ZMQ()), pipeline.WithName("squares"))
//	g.Add(pool) // scraped as zmqchan_pool_submitted{name="squares"}, ...
//
// ForGroup collects, at each scrape, every socket open in the group's zmq
// context (those of pools, chains and devices included) and the Stats of
// every component added to the group (pools, chains, reqrep clients and
// servers): nothing is added by hand. Without a group, ForContext collects
// the sockets of one zchan.Context; and Components collects stats structs
// added one by one, for what is not a group's component (a
// monitor.Monitor and a secure.Authenticator have no Shutdown):
//
//	reg.MustRegister(metrics.ForContext(zc))
//	comps := metrics.NewComponents("", nil)
//	metrics.AddStats(comps, "monitor", mon.Name(), mon.Stats)
//	metrics.AddStats(comps, "auth", "zap", auth.Stats)
//	reg.MustRegister(comps)
//
// # Groups
//
// A GroupCollector finds a component's counters by reflection: a method
// Stats() returning a struct (or a pointer to one) whose exported integer
// fields become metrics named zmqchan_<kind>_<field in snake_case>,
// labelled name="<the component's Name()>", where kind is the component's
// type name lower-cased without package or type parameters ("pool" for a
// *pipeline.Pool[Task, Result], "server" for a *reqrep.Server[Req, Rep]).
// zchan sockets added as components are left to the socket metrics, so
// nothing is counted twice. Like Components it is an unchecked collector,
// since its metrics are known only at each scrape.
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
