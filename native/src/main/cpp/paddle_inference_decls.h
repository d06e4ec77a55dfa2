// Our own declarations of the few Paddle Inference 2.3.2 C++ classes the shim calls.
//
// The Paddle binary we link against (libpaddle_inference.so from the Maven artifact
// ai.djl.paddlepaddle:paddlepaddle-native-cpu:2.3.2:linux-x86_64) ships no header and no C API.
// Everything below was written for this project from the library's exported symbols
// (`nm -DC libpaddle_inference.so`) and the object layouts recorded in ../shared/FACTS.md:
//
//  * Out-of-line members are declared with the exact signatures of exported symbols, so the linker
//    binds them to Paddle's code. Never add a member here that is not exported (check with nm).
//  * Inline members of the real headers (Predictor's and Tensor's destructors, the
//    AnalysisConfig switches) are reproduced from the measured layouts; static_asserts pin sizes.
//  * The library was built with GCC 5.4 and the C++11 string ABI, which g++ 12 shares; C++
//    exceptions (phi::enforce::EnforceNotMet derives from std::exception) cross the boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace Ort {
class IoBinding;  // only held through a weak_ptr inside paddle_infer::Tensor
}

namespace paddle {

// The predictor interface behind paddle_infer::Predictor. We call none of its virtual functions
// directly, but paddle_infer::Predictor's inline destructor deletes it through the vtable, so the
// slots are declared in Paddle's order to put the destructor (the last two slots) where Paddle put
// it. The placeholder slots are never called. Being polymorphic, typeid(*predictor) reads the real
// object's type_info (Paddle exports `typeinfo for paddle::ONNXRuntimePredictor` and
// `paddle::AnalysisPredictor`): that is how the shim tells which engine Paddle actually built.
class PaddlePredictor {
 public:
  virtual void vtableSlot0Run() = 0;
  virtual void vtableSlot1GetInputNames() = 0;
  virtual void vtableSlot2GetInputTensorShape() = 0;
  virtual void vtableSlot3GetOutputNames() = 0;
  virtual void vtableSlot4GetInputTensor() = 0;
  virtual void vtableSlot5GetOutputTensor() = 0;
  virtual void vtableSlot6ZeroCopyRun() = 0;
  virtual void vtableSlot7ClearIntermediateTensor() = 0;
  virtual void vtableSlot8TryShrinkMemory() = 0;
  virtual void vtableSlot9Clone() = 0;
  virtual ~PaddlePredictor() = default;  // slots 10 (complete) and 11 (deleting)
};

// paddle_infer::Config is an alias of this class. Its default constructor is not exported, the
// (program file, params file) one and the destructor are. Its real size is 0x4c0 bytes; we
// over-allocate so a layout we do not know about can never overflow our allocation.
class alignas(16) AnalysisConfig {
 public:
  AnalysisConfig(const std::string& prog_file, const std::string& params_file);
  ~AnalysisConfig();
  AnalysisConfig(const AnalysisConfig&) = delete;
  AnalysisConfig& operator=(const AnalysisConfig&) = delete;

  void SetCpuMathLibraryNumThreads(int cpu_math_library_num_threads);
  void EnableMemoryOptim(bool enable);
  // Ask for Paddle's ONNX Runtime backend (the program is converted by paddle2onnx at predictor
  // creation; when it cannot be, Paddle logs a warning and builds its own engine instead).
  void EnableONNXRuntime();
  void EnableORTOptimization();
  void DisableGlogInfo();
  void Update();

  // Inline in Paddle's header: plain bool members followed by Update(). Offsets found by
  // disassembling the exported constructor (which writes the defaults 1, 1 there).
  void SwitchIrOptim(bool enable) {
    boolAt(kIrOptimOffset) = enable;
    Update();
  }
  void SwitchUseFeedFetchOps(bool enable) {
    boolAt(kUseFeedFetchOpsOffset) = enable;
    Update();
  }

 private:
  static constexpr std::size_t kPaddleSize = 0x4c0;
  static constexpr std::size_t kIrOptimOffset = 0x1f1;
  static constexpr std::size_t kUseFeedFetchOpsOffset = 0x1f2;
  bool& boolAt(std::size_t offset) { return *reinterpret_cast<bool*>(storage_ + offset); }

  unsigned char storage_[kPaddleSize * 2];
};

}  // namespace paddle

namespace paddle_infer {

using Config = paddle::AnalysisConfig;

enum class DataType { FLOAT32, INT64, INT32, UINT8, INT8, FLOAT16 };
enum class PlaceType { kUNK = -1, kCPU, kGPU, kXPU, kNPU, kIPU, kCUSTOM };
enum class DataLayout { kUNK = -1, kAny, kNHWC, kNCHW };

// A handle on a named input or output of a predictor. Created only by Paddle (GetInputHandle /
// GetOutputHandle); the destructor is inline in Paddle's header, so the members must match.
class Tensor {
 public:
  ~Tensor() = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  template <typename T>
  void ShareExternalData(const T* data, const std::vector<int>& shape, PlaceType place,
                         DataLayout layout);
  template <typename T>
  void CopyToCpu(T* data) const;
  std::vector<int> shape() const;
  DataType type() const;

 private:
  std::string name_;
  void* tensor_;
  int dtype_;
  bool input_or_output_;
  void* scope_;
  PlaceType place_;
  int device_;
  bool is_ort_tensor_;
  std::vector<int64_t> shape_;
  std::weak_ptr<Ort::IoBinding> binding_;
  int idx_;
};
static_assert(sizeof(Tensor) == 0x78, "paddle_infer::Tensor layout differs from Paddle 2.3.2");

class Predictor {
 public:
  explicit Predictor(const Config& config);
  ~Predictor() {}
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  std::vector<std::string> GetInputNames();
  std::vector<std::string> GetOutputNames();
  std::unique_ptr<Tensor> GetInputHandle(const std::string& name);
  std::unique_ptr<Tensor> GetOutputHandle(const std::string& name);
  bool Run();
  std::unique_ptr<Predictor> Clone();
  uint64_t TryShrinkMemory();

  // The engine behind this facade (AnalysisPredictor or ONNXRuntimePredictor), or null when Paddle
  // failed to initialise one. Ours, not Paddle's: it only reads the one member of the layout above.
  const paddle::PaddlePredictor* engine() const { return predictor_.get(); }

 private:
  std::unique_ptr<paddle::PaddlePredictor> predictor_;
};
static_assert(sizeof(Predictor) == 8, "paddle_infer::Predictor layout differs from Paddle 2.3.2");

std::string GetVersion();
std::string UpdateDllFlag(const char* name, const char* value);

}  // namespace paddle_infer
