package zchan

import (
	"cmp"
	"slices"
)

// SocketStats is the name and a snapshot of the counters of one socket.
type SocketStats struct {
	Name  string
	Stats Stats
}

type statsSource interface {
	Name() string
	Stats() Stats
}

// track registers s for SocketStats; forget removes it when s ends.
func (c *Context) track(id uint64, s statsSource) {
	c.mu.Lock()
	if c.sources == nil {
		c.sources = make(map[uint64]statsSource)
	}
	c.sources[id] = s
	c.mu.Unlock()
}

// SocketStats returns the name and counters of every socket of this
// package open in c, sorted by name (sockets of the same name in the order
// they were opened). A socket leaves the list when it ends. It costs one
// atomic load per counter per socket, under c's lock for the list only;
// it is what metrics.ForContext reads at every scrape.
func (c *Context) SocketStats() []SocketStats {
	c.mu.Lock()
	type entry struct {
		id uint64
		s  statsSource
	}
	list := make([]entry, 0, len(c.sources))
	for id, s := range c.sources {
		list = append(list, entry{id, s})
	}
	c.mu.Unlock()
	out := make([]SocketStats, len(list))
	slices.SortFunc(list, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.s.Name(), b.s.Name()), cmp.Compare(a.id, b.id))
	})
	for i, e := range list {
		out[i] = SocketStats{Name: e.s.Name(), Stats: e.s.Stats()}
	}
	return out
}
