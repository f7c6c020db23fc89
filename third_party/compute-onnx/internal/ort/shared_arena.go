// Copyright 2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ort

/*
#include "onnxruntime_c_api.h"
#include <stdlib.h>
#include <malloc.h>

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

// wrapper_RunShrinkingCPUArena runs session on one input and one output with the run option that
// makes ONNX Runtime, after the run, free the regions of the CPU arena that nothing uses.
static OrtStatus* wrapper_RunShrinkingCPUArena(const OrtApi* api, OrtSession* session, const char* in_name, const OrtValue* in, const char* out_name, OrtValue* out) {
    OrtRunOptions* opts = NULL;
    OrtStatus* status = api->CreateRunOptions(&opts);
    if (status != NULL) {
        return status;
    }
    status = api->AddRunConfigEntry(opts, "memory.enable_memory_arena_shrinkage", "cpu:0");
    if (status == NULL) {
        status = api->Run(session, opts, &in_name, &in, 1, &out_name, 1, &out);
    }
    api->ReleaseRunOptions(opts);
    return status;
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

	onnx "github.com/gomlx/compute-onnx/internal/protos"
	"google.golang.org/protobuf/proto"
)

// sharedCPUArena is the state of the CPU arena that UseSharedCPUArena's sessions share:
// whether one is registered on the environment.
var sharedCPUArena struct {
	sync.Mutex
	registered bool
}

// registerSharedCPUArena registers a CPU arena allocator on the global environment unless one
// is. Its extend strategy is "same as requested": it grows by what an allocation lacks, where
// ONNX Runtime's default doubles each extension, so that its size follows the largest working
// set of the sessions that share it rather than the next power of two above it.
func registerSharedCPUArena() error {
	sharedCPUArena.Lock()
	defer sharedCPUArena.Unlock()
	if sharedCPUArena.registered {
		return nil
	}
	if ortEnv == nil {
		return fmt.Errorf("ONNX Runtime environment not initialized")
	}
	key := C.CString("arena_extend_strategy")
	defer C.free(unsafe.Pointer(key))
	keys := []*C.char{key}
	values := []C.size_t{1} // kSameAsRequested
	var cfg *C.OrtArenaCfg
	if err := statusToError(C.wrapper_CreateArenaCfgV2(ortApi, (**C.char)(unsafe.Pointer(&keys[0])),
		(*C.size_t)(unsafe.Pointer(&values[0])), 1, &cfg)); err != nil {
		return err
	}
	defer C.wrapper_ReleaseArenaCfg(ortApi, cfg)
	var info *C.OrtMemoryInfo
	if err := statusToError(C.wrapper_CreateArenaCpuMemoryInfo(ortApi, &info)); err != nil {
		return err
	}
	defer C.wrapper_ReleaseMemoryInfo(ortApi, info)
	if err := statusToError(C.wrapper_CreateAndRegisterAllocator(ortApi, ortEnv.env, info, cfg)); err != nil {
		return err
	}
	sharedCPUArena.registered = true
	return nil
}

// ShrinkSharedCPUArena frees the regions of the shared CPU arena that no allocation uses: an
// arena otherwise keeps the largest working set it ever served. A program calls it when sessions
// whose working set the next ones need not inherit are done (a finished training's). It runs a
// one-value Identity model in a session of its own with ONNX Runtime's arena-shrinking run
// option, the only way the C API offers to shrink an arena. It does nothing when no arena is
// registered.
func ShrinkSharedCPUArena() error {
	sharedCPUArena.Lock()
	registered := sharedCPUArena.registered
	sharedCPUArena.Unlock()
	if !registered {
		return nil
	}
	options, err := NewSessionOptions()
	if err != nil {
		return err
	}
	defer options.Destroy()
	if err := options.UseSharedCPUArena(); err != nil {
		return err
	}
	session, err := NewSessionWithONNXData(ortEnv, identityModel, options)
	if err != nil {
		return fmt.Errorf("shrinking the shared CPU arena: %w", err)
	}
	defer session.Destroy()
	x, err := NewTensor(NewShape(1), []float32{0})
	if err != nil {
		return err
	}
	defer x.Destroy()
	y, err := NewEmptyTensor[float32](NewShape(1))
	if err != nil {
		return err
	}
	defer y.Destroy()
	in, out := C.CString("x"), C.CString("y")
	defer C.free(unsafe.Pointer(in))
	defer C.free(unsafe.Pointer(out))
	if err := statusToError(C.wrapper_RunShrinkingCPUArena(ortApi, session.session, in, x.cValue(), out, y.cValue())); err != nil {
		return fmt.Errorf("shrinking the shared CPU arena: %w", err)
	}
	return nil
}

// identityModel is the ONNX model y = Identity(x) of one float: what ShrinkSharedCPUArena runs.
var identityModel = func() []byte {
	value := func(name string) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{
				Dim: []*onnx.TensorShapeProto_Dimension{{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 1}}}}}}}}
	}
	b, err := proto.Marshal(&onnx.ModelProto{IrVersion: 9, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 21}},
		Graph: &onnx.GraphProto{Name: "shrink_arena", Input: []*onnx.ValueInfoProto{value("x")}, Output: []*onnx.ValueInfoProto{value("y")},
			Node: []*onnx.NodeProto{{Input: []string{"x"}, Output: []string{"y"}, OpType: "Identity"}}}})
	if err != nil {
		panic(err) // a fixed, valid message
	}
	return b
}()

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

// TrimCHeap returns the free memory of the C heap (glibc's malloc) to the operating system:
// what destroyed sessions and a released arena gave back stays resident otherwise.
func TrimCHeap() { C.malloc_trim(0) }
