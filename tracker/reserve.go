package tracker

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// reserveSize is the room kept back for recording how runs end: the final status
// update of a run needs a few pages of WAL (tens of KiB); 1 MiB leaves margin
// for several runs and a checkpoint.
const reserveSize = 1 << 20

// diskReserve is a file of reserveSize bytes beside a store file ("aelab.db-reserve").
// When a full disk makes the write that ends a run fail, the reserve is deleted,
// which frees its space, and the write is tried again: the run is recorded FAILED
// with its reason instead of staying RUNNING until readers take it for LOST.
// Writing opens create the file again when it is missing and there is room.
type diskReserve struct{ path string }

func newDiskReserve(path string) *diskReserve {
	r := &diskReserve{path: path}
	r.ensure()
	return r
}

// ensure creates the reserve if it is missing and there is room for it. The
// bytes are random so that a compressing filesystem really allocates them.
func (r *diskReserve) ensure() {
	if _, err := os.Stat(r.path); err == nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.path), filepath.Base(r.path)+".*")
	if err != nil {
		return
	}
	buf := make([]byte, reserveSize)
	rng := rand.NewChaCha8([32]byte{'a', 'e', 'l', 'a', 'b'})
	rng.Read(buf)
	_, err = tmp.Write(buf)
	if err = errors.Join(err, tmp.Sync(), tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), r.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// release deletes the reserve, freeing its space, and reports whether there was one.
func (r *diskReserve) release() bool {
	return r != nil && os.Remove(r.path) == nil
}

// execRecordingEnd runs a write that records how a run ended. When the disk is
// full it frees the disk reserve and tries once more; a passing failure (a
// connection lost) it retries with backoff until the deadline.
func (s *Store) execRecordingEnd(deadline time.Time, query string, args ...any) error {
	backoff := minBackoff
	for {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		_, err := s.execContext(ctx, query, args...)
		cancel()
		switch {
		case err == nil:
			return nil
		case isDiskFull(err) && s.reserve.release():
			continue
		case !isTransient(err) || time.Now().Add(backoff).After(deadline):
			return err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}
