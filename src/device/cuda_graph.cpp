// A C ABI over libtorch's CUDA graphs (at::cuda::CUDAGraph), which tch does not bind. Capture
// runs on a side stream (CUDA cannot capture the legacy default stream); replay launches the
// whole recorded sequence on the caller's current stream in one call. Only the CUDA runtime
// API headers are needed (the wheel's nvidia packages ship no compiler headers). Every entry point
// catches C++ exceptions and returns them as text, so a failure never unwinds into Rust.
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <cstring>
#include <exception>
#include <optional>

namespace {

struct Graph {
  at::cuda::CUDAGraph graph;
  // The stream that was current before capture, made current again after it.
  std::optional<c10::cuda::CUDAStream> caller;
};

int fail(char* error, size_t length, const char* what) {
  if (error != nullptr && length > 0) {
    std::strncpy(error, what, length - 1);
    error[length - 1] = '\0';
  }
  return 1;
}

void restore_caller(Graph* g) {
  if (g->caller) {
    c10::cuda::setCurrentCUDAStream(*g->caller);
    g->caller.reset();
  }
}

}  // namespace

extern "C" {

int mcdrop_cuda_graph_new(void** out, char* error, size_t length) {
  try {
    *out = new Graph();
    return 0;
  } catch (const std::exception& e) {
    return fail(error, length, e.what());
  }
}

int mcdrop_cuda_graph_capture_begin(void* handle, char* error, size_t length) {
  auto* g = static_cast<Graph*>(handle);
  try {
    auto caller = c10::cuda::getCurrentCUDAStream();
    auto side = c10::cuda::getStreamFromPool();
    // What the caller queued must be done before the side stream records (capture runs
    // nothing, and a replay runs on the caller's stream, in its order).
    c10::cuda::device_synchronize();
    g->caller = caller;
    c10::cuda::setCurrentCUDAStream(side);
    // Thread-local mode: a speculative retrain trains on two threads at once, and the other
    // thread's allocations must not invalidate this capture (nor its own capture this one).
    g->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
    return 0;
  } catch (const std::exception& e) {
    restore_caller(g);
    return fail(error, length, e.what());
  }
}

int mcdrop_cuda_graph_capture_end(void* handle, char* error, size_t length) {
  auto* g = static_cast<Graph*>(handle);
  try {
    g->graph.capture_end();
    restore_caller(g);
    return 0;
  } catch (const std::exception& e) {
    try {
      restore_caller(g);
    } catch (const std::exception&) {
    }
    return fail(error, length, e.what());
  }
}

int mcdrop_cuda_graph_replay(void* handle, char* error, size_t length) {
  try {
    static_cast<Graph*>(handle)->graph.replay();
    return 0;
  } catch (const std::exception& e) {
    return fail(error, length, e.what());
  }
}

void mcdrop_cuda_graph_free(void* handle) {
  try {
    delete static_cast<Graph*>(handle);
  } catch (const std::exception&) {
  }
}

}  // extern "C"
