package emulator

import "sync"

// store keeps the State. Implementations serialise updates: an update sees
// every update that finished before it began, and is all or nothing.
type store interface {
	// view calls fn with the current state. fn must not modify it or keep
	// references to it after returning.
	view(fn func(*State) error) error
	// update calls fn with a private copy of the current state. When fn
	// returns nil the copy becomes the current state (durably, for stores
	// that persist) before update returns; when fn fails nothing changes and
	// fn's error is returned.
	update(fn func(*State) error) error
	// close releases the store's resources.
	close() error
}

// memoryStore keeps the state in memory, for tests and the default emulator.
type memoryStore struct {
	mu    sync.RWMutex
	state *State
}

func newMemoryStore(initial *State) *memoryStore {
	return &memoryStore{state: initial.clone()}
}

func (m *memoryStore) view(fn func(*State) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(m.state)
}

func (m *memoryStore) update(fn func(*State) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.state.clone()
	if err := fn(next); err != nil {
		return err
	}
	m.state = next
	return nil
}

func (m *memoryStore) close() error { return nil }
