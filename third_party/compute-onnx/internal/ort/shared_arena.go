// Copyright 2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ort

/*
#include "onnxruntime_c_api.h"
#include <stdlib.h>

void wrapper_ReleaseMemoryInfo(const OrtApi* api, OrtMemoryInfo* info);

static OrtStatus* wrapper_CreateArenaCfgV2(const OrtApi* api, const char* const* keys, const size_t* values, size_t n, OrtArenaCfg** out) {
    return api->CreateArenaCfgV2(keys, values, n, out);
}

static void wrapper_ReleaseArenaCfg(const OrtApi* api, OrtArenaCfg* cfg) {
    api->ReleaseArenaCfg(cfg);
}

static OrtStatus* wrapper_CreateAndRegisterAllocator(const OrtApi* api, OrtEnv* env, const OrtMemoryInfo* info, const OrtArenaCfg* cfg) {
    return api->CreateAndRegisterAllocator(env, info, cfg);
}

static OrtStatus* wrapper_AddSessionConfigEntry(const OrtApi* api, OrtSessionOptions* options, const char* key, const char* value) {
    return api->AddSessionConfigEntry(options, key, value);
}

static OrtStatus* wrapper_CreateArenaCpuMemoryInfo(const OrtApi* api, OrtMemoryInfo** out) {
    return api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, out);
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// sharedCPUArena registers, once per process, the CPU arena that UseSharedCPUArena's sessions
// share, or remembers why it could not.
var sharedCPUArena struct {
	once sync.Once
	err  error
}

// registerSharedCPUArena registers a CPU arena allocator on the global environment. Its extend
// strategy is "same as requested": it grows by what an allocation lacks, where ONNX Runtime's
// default doubles each extension, so that its size follows the largest working set of the
// sessions that share it rather than the next power of two above it.
func registerSharedCPUArena() error {
	sharedCPUArena.once.Do(func() {
		if ortEnv == nil {
			sharedCPUArena.err = fmt.Errorf("ONNX Runtime environment not initialized")
			return
		}
		key := C.CString("arena_extend_strategy")
		defer C.free(unsafe.Pointer(key))
		keys := []*C.char{key}
		values := []C.size_t{1} // kSameAsRequested
		var cfg *C.OrtArenaCfg
		if err := statusToError(C.wrapper_CreateArenaCfgV2(ortApi, (**C.char)(unsafe.Pointer(&keys[0])),
			(*C.size_t)(unsafe.Pointer(&values[0])), 1, &cfg)); err != nil {
			sharedCPUArena.err = err
			return
		}
		defer C.wrapper_ReleaseArenaCfg(ortApi, cfg)
		var info *C.OrtMemoryInfo
		if err := statusToError(C.wrapper_CreateArenaCpuMemoryInfo(ortApi, &info)); err != nil {
			sharedCPUArena.err = err
			return
		}
		defer C.wrapper_ReleaseMemoryInfo(ortApi, info)
		sharedCPUArena.err = statusToError(C.wrapper_CreateAndRegisterAllocator(ortApi, ortEnv.env, info, cfg))
	})
	return sharedCPUArena.err
}

// UseSharedCPUArena makes the sessions created with these options allocate their CPU
// intermediate values from one arena shared by all such sessions of the process, instead of an
// arena of their own each. Sessions that run one after the other (a training step's and a
// validation pass's) then reuse the same memory, and the process holds the largest working set
// of its sessions once, not the sum of them. ONNX Runtime's arena is thread-safe: sessions that
// run at the same time share it too.
func (so *SessionOptions) UseSharedCPUArena() error {
	if err := registerSharedCPUArena(); err != nil {
		return err
	}
	key, value := C.CString("session.use_env_allocators"), C.CString("1")
	defer C.free(unsafe.Pointer(key))
	defer C.free(unsafe.Pointer(value))
	return statusToError(C.wrapper_AddSessionConfigEntry(ortApi, so.options, key, value))
}
