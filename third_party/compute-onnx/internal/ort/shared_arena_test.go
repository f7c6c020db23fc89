// Copyright 2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ort

import (
	"slices"
	"testing"
)

// Sessions whose options share the CPU arena are created and run, side by side, however many
// option sets ask for it: the arena is registered on the environment once. After the arena is
// shrunk (twice), the sessions that share it still run, and so does a new one.
func TestSessionsShareTheCPUArena(t *testing.T) {
	if err := initTestEnvironment(); err != nil {
		t.Fatalf("Failed to initialize environment: %v", err)
	}
	var sessions []*Session
	for i := range 3 {
		if i == 2 {
			for range 2 {
				if err := ShrinkSharedCPUArena(); err != nil {
					t.Fatalf("ShrinkSharedCPUArena: %v", err)
				}
			}
			TrimCHeap()
		}
		options, err := NewSessionOptions()
		if err != nil {
			t.Fatal(err)
		}
		if err := options.UseSharedCPUArena(); err != nil {
			t.Fatalf("UseSharedCPUArena: %v", err)
		}
		session, err := NewSessionWithONNXData(ortEnv, createIdentityModel(1<<16), options)
		options.Destroy()
		if err != nil {
			t.Fatalf("NewSession with the shared arena: %v", err)
		}
		defer session.Destroy()
		sessions = append(sessions, session)
	}
	in := make([]float32, 1<<16)
	for i := range in {
		in[i] = float32(i)
	}
	for i, session := range sessions {
		x, err := NewTensor(NewShape(1<<16), in)
		if err != nil {
			t.Fatal(err)
		}
		y, err := NewEmptyTensor[float32](NewShape(1 << 16))
		if err != nil {
			t.Fatal(err)
		}
		if err := session.Run([]string{"x"}, []Value{x}, []string{"y"}, []Value{y}); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if !slices.Equal(y.GetData(), in) {
			t.Errorf("session %d: output differs from its input", i)
		}
		x.Destroy()
		y.Destroy()
	}
}
