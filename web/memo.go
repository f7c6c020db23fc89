package web

import (
	"slices"
	"sync"
)

// memo remembers the results of slow work (reconstruction grids, reports) by key: each key is
// computed once even when asked for by several requests at once, one computation runs at a
// time (they load models and data), the last size results are kept, and failures are
// forgotten so that the next request tries again.
type memo struct {
	mu      sync.Mutex
	size    int
	entries map[string]*memoEntry
	order   []string // oldest first
	work    sync.Mutex
}

type memoEntry struct {
	done chan struct{}
	val  []byte
	err  error
}

func newMemo(size int) *memo {
	return &memo{size: size, entries: map[string]*memoEntry{}}
}

// get returns the result for key, computing it with compute unless it is kept or under way.
func (m *memo) get(key string, compute func() ([]byte, error)) ([]byte, error) {
	m.mu.Lock()
	if e, ok := m.entries[key]; ok {
		m.mu.Unlock()
		<-e.done
		return e.val, e.err
	}
	e := &memoEntry{done: make(chan struct{})}
	m.entries[key] = e
	m.order = append(m.order, key)
	if len(m.order) > m.size {
		delete(m.entries, m.order[0])
		m.order = m.order[1:]
	}
	m.mu.Unlock()

	m.work.Lock()
	e.val, e.err = compute()
	m.work.Unlock()
	close(e.done)
	if e.err != nil {
		m.mu.Lock()
		if m.entries[key] == e {
			delete(m.entries, key)
			m.order = slices.DeleteFunc(m.order, func(k string) bool { return k == key })
		}
		m.mu.Unlock()
	}
	return e.val, e.err
}
