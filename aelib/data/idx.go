package data

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// idxFile is the content of one idx file: its dimensions and its unsigned-byte values.
type idxFile struct {
	Dims   []int
	Values []uint8
}

// idx type code for unsigned bytes, the only element type MNIST-style files use.
const idxUint8 = 0x08

// readIDX reads an idx file (gzip-compressed when its name ends in .gz) and checks that it
// holds exactly the values its header announces. wantRank, if > 0, is the rank it must have.
// digest is the SHA-256 of the file's bytes, in hex.
func readIDX(path string, wantRank int) (idx *idxFile, digest string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("idx %s: %w", path, err)
	}
	defer f.Close()
	hash := sha256.New()
	file := io.TeeReader(f, hash)
	var r io.Reader = bufio.NewReader(file)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, "", fmt.Errorf("idx %s: not a valid gzip file: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	if idx, err = parseIDX(r, wantRank); err != nil {
		return nil, "", fmt.Errorf("idx %s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, file); err != nil { // the rest of the file, for the digest
		return nil, "", fmt.Errorf("idx %s: %w", path, err)
	}
	return idx, hex.EncodeToString(hash.Sum(nil)), nil
}

// parseIDX parses the idx format: two zero bytes, a type code, the rank, then one big-endian
// uint32 per dimension, then the values.
func parseIDX(r io.Reader, wantRank int) (*idxFile, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("truncated header (%v)", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("bad magic number %#x: not an idx file", magic)
	}
	if magic[2] != idxUint8 {
		return nil, fmt.Errorf("element type %#x is not unsigned byte (0x08)", magic[2])
	}
	rank := int(magic[3])
	if rank == 0 || (wantRank > 0 && rank != wantRank) {
		return nil, fmt.Errorf("rank %d, want %d", rank, wantRank)
	}
	dims := make([]int, rank)
	size := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("truncated header: dimension %d missing (%v)", i, err)
		}
		if d == 0 || d > 1<<24 {
			return nil, fmt.Errorf("implausible dimension %d = %d", i, d)
		}
		dims[i] = int(d)
		size *= int(d)
		if size > 1<<31 {
			return nil, fmt.Errorf("implausible size %v", dims[:i+1])
		}
	}
	// Read what is there, one value more than announced, to the end (where gzip verifies its
	// checksum): memory follows the file, not a header's claim.
	values, err := io.ReadAll(io.LimitReader(r, int64(size)+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("corrupt: %w", err)
	case len(values) < size:
		return nil, fmt.Errorf("truncated: header announces %v = %d values, file holds %d", dims, size, len(values))
	case len(values) > size:
		return nil, fmt.Errorf("corrupt: more data after the %d values the header announces %v", size, dims)
	}
	return &idxFile{Dims: dims, Values: values}, nil
}
