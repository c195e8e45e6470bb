package store

import "context"

// StateCache is a key-value cache over one connection's state table, for
// what a connector keeps between runs (the Salesforce connector's
// describes): every CLI run is a new process.
type StateCache struct {
	store      *Store
	connection string
}

// StateCache returns the cache of connection's state.
func (s *Store) StateCache(connection string) StateCache {
	return StateCache{store: s, connection: connection}
}

// Get returns the value stored under key; ok is false when there is none.
func (c StateCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.store.State(ctx, c.connection, key)
	if err != nil {
		return nil, false, err
	}
	return []byte(v), v != "", nil
}

// Put stores value under key, replacing any earlier value.
func (c StateCache) Put(ctx context.Context, key string, value []byte) error {
	return c.store.InTx(ctx, func(tx *Tx) error { return tx.SetState(ctx, c.connection, key, string(value)) })
}
