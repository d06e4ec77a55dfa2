// JNI entry points of io.inferencefleet.paddle.PaddleNative.
//
// Rules every entry point follows:
//  * It never lets a C++ exception escape into the JVM: Paddle's errors (std::exception) and
//    anything else become a Java io.inferencefleet.paddle.PaddleException carrying the message.
//  * Handles are pointers to PredictorHandle, owned by exactly one Java Predictor; the Java side
//    guarantees a handle is non-zero and not yet destroyed before it calls in here.
//  * Every Get*ArrayElements / GetPrimitiveArrayCritical has its Release on every path.
#include <jni.h>

#include <cstring>
#include <exception>
#include <stdexcept>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "io_inferencefleet_paddle_PaddleNative.h"
#include "paddle_inference_decls.h"

namespace {

constexpr const char* kPaddleExceptionClass = "io/inferencefleet/paddle/PaddleException";
constexpr int kMaxRank = 8;

// Engine codes shared with io.inferencefleet.paddle.Engine (its ordinal()).
constexpr jint kEnginePaddle = 0;
constexpr jint kEngineOnnxRuntime = 1;

// Paddle silently builds its own engine when paddle2onnx cannot convert a program, so the engine is
// read from the type of the object Paddle built (mangled names of the exported typeinfo symbols).
jint engineOf(const paddle::PaddlePredictor& engine) {
  const std::string type = typeid(engine).name();
  if (type == "N6paddle20ONNXRuntimePredictorE") return kEngineOnnxRuntime;
  if (type == "N6paddle17AnalysisPredictorE") return kEnginePaddle;
  throw std::runtime_error("Paddle built a predictor of unexpected type " + type);
}

const paddle::PaddlePredictor& requireEngine(const paddle_infer::Predictor* predictor) {
  // Paddle returns an empty predictor (instead of throwing) when an engine's Init() fails; using it
  // would dereference null.
  if (predictor == nullptr || predictor->engine() == nullptr) {
    throw std::runtime_error("Paddle could not initialise the predictor (its log, on stderr, says why)");
  }
  return *predictor->engine();
}

// One predictor and the tensor handles we reuse on every run (GetInputHandle allocates).
struct PredictorHandle {
  std::unique_ptr<paddle_infer::Predictor> predictor;
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;
  std::vector<std::unique_ptr<paddle_infer::Tensor>> inputs;
  std::vector<std::unique_ptr<paddle_infer::Tensor>> outputs;
  jint engine;

  explicit PredictorHandle(std::unique_ptr<paddle_infer::Predictor> p)
      : predictor(std::move(p)), engine(engineOf(requireEngine(predictor.get()))) {
    input_names = predictor->GetInputNames();
    output_names = predictor->GetOutputNames();
    for (const auto& name : input_names) inputs.push_back(predictor->GetInputHandle(name));
    for (const auto& name : output_names) outputs.push_back(predictor->GetOutputHandle(name));
  }

  ~PredictorHandle() {
    // Tensor handles point into the predictor's scope: release them first.
    inputs.clear();
    outputs.clear();
    predictor.reset();
  }
};

PredictorHandle* handleOf(jlong handle) { return reinterpret_cast<PredictorHandle*>(handle); }

void throwJava(JNIEnv* env, const char* className, const std::string& message) {
  if (env->ExceptionCheck()) return;  // keep the first, most specific exception
  jclass cls = env->FindClass(className);
  if (cls == nullptr) return;  // FindClass already raised NoClassDefFoundError
  env->ThrowNew(cls, message.c_str());
  env->DeleteLocalRef(cls);
}

void throwPaddle(JNIEnv* env, const std::string& message) {
  throwJava(env, kPaddleExceptionClass, message);
}

// Runs body; converts any C++ exception into a PaddleException prefixed with what we were doing.
template <typename Body>
void guarded(JNIEnv* env, const char* action, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    throwPaddle(env, std::string(action) + ": " + e.what());
  } catch (...) {
    throwPaddle(env, std::string(action) + ": unknown C++ exception from Paddle");
  }
}

std::string toStdString(JNIEnv* env, jstring s) {
  if (s == nullptr) return std::string();
  const char* chars = env->GetStringUTFChars(s, nullptr);
  if (chars == nullptr) return std::string();  // OutOfMemoryError pending
  std::string result(chars);
  env->ReleaseStringUTFChars(s, chars);
  return result;
}

jobjectArray toJavaStrings(JNIEnv* env, const std::vector<std::string>& values) {
  jclass stringClass = env->FindClass("java/lang/String");
  if (stringClass == nullptr) return nullptr;
  jobjectArray array = env->NewObjectArray(static_cast<jsize>(values.size()), stringClass, nullptr);
  env->DeleteLocalRef(stringClass);
  if (array == nullptr) return nullptr;
  for (std::size_t i = 0; i < values.size(); ++i) {
    jstring s = env->NewStringUTF(values[i].c_str());
    if (s == nullptr) return nullptr;
    env->SetObjectArrayElement(array, static_cast<jsize>(i), s);
    env->DeleteLocalRef(s);
  }
  return array;
}

jlong elementCount(const std::vector<int>& shape) {
  jlong n = 1;
  for (int d : shape) n *= d;
  return n;
}

// Both copy entry points: checks that output `index` is float32 and fits `capacityFloats`, then
// lets `copy` write it. Returns the floats copied, -(floats needed) when the destination is too
// small (a normal outcome the Java side turns into a precise message), or 0 with an exception
// pending.
template <typename Copy>
jlong copyOutput(JNIEnv* env, jlong handle, jint index, jlong capacityFloats, Copy&& copy) {
  jlong copied = 0;
  guarded(env, "copying Paddle output", [&] {
    paddle_infer::Tensor* out = handleOf(handle)->outputs.at(static_cast<std::size_t>(index)).get();
    if (out->type() != paddle_infer::DataType::FLOAT32) {
      throwPaddle(env, "copying Paddle output: output is not float32 (Paddle DataType " +
                           std::to_string(static_cast<int>(out->type())) + ")");
      return;
    }
    const jlong needed = elementCount(out->shape());
    if (needed > capacityFloats) {
      copied = -needed;
      return;
    }
    if (copy(out)) copied = needed;
  });
  return copied;
}

}  // namespace

extern "C" {

JNIEXPORT void JNICALL Java_io_inferencefleet_paddle_PaddleNative_noop(JNIEnv*, jclass) {}

JNIEXPORT jstring JNICALL Java_io_inferencefleet_paddle_PaddleNative_initialize(JNIEnv* env,
                                                                                jclass) {
  std::string version;
  guarded(env, "initialising Paddle", [&] {
    // One-line error messages instead of Paddle's full C++ call stacks.
    paddle_infer::UpdateDllFlag("call_stack_level", "1");
    version = paddle_infer::GetVersion();
  });
  if (env->ExceptionCheck()) return nullptr;
  return env->NewStringUTF(version.c_str());
}

namespace {
// paddle2onnx (which Paddle runs to convert a program for ONNX Runtime) writes two lines per load to
// std::cout, the process's stdout, where they interleave with the output of `fleet demo` and `fleet
// classify`. It links the same libstdc++ as this shim, so its std::cout is ours: while a predictor is
// built with quiet logging, std::cout writes into a buffer that is dropped. One build at a time swaps it
// (the lock), and the destructor puts the real buffer back on every path, exceptions included.
class QuietStdout {
 public:
  explicit QuietStdout(bool quiet) : lock_(mutex(), std::defer_lock) {
    if (quiet) {
      lock_.lock();
      saved_ = std::cout.rdbuf(&sink_);
    }
  }
  ~QuietStdout() {
    if (saved_ != nullptr) std::cout.rdbuf(saved_);
  }
  QuietStdout(const QuietStdout&) = delete;
  QuietStdout& operator=(const QuietStdout&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  std::unique_lock<std::mutex> lock_;
  std::stringbuf sink_;
  std::streambuf* saved_ = nullptr;
};
}  // namespace

JNIEXPORT jlong JNICALL Java_io_inferencefleet_paddle_PaddleNative_createPredictor(
    JNIEnv* env, jclass, jstring modelFile, jstring paramsFile, jint mathThreads,
    jboolean irOptim, jboolean memoryOptim, jboolean quietLogging, jboolean onnxRuntime) {
  const std::string model = toStdString(env, modelFile);
  const std::string params = toStdString(env, paramsFile);
  if (env->ExceptionCheck()) return 0;
  PredictorHandle* created = nullptr;
  guarded(env, "creating Paddle predictor", [&] {
    // The config is only needed while the predictor is built; unique_ptr frees it on every path.
    auto config = std::make_unique<paddle::AnalysisConfig>(model, params);
    config->SwitchUseFeedFetchOps(false);  // required for zero-copy input/output handles
    config->SwitchIrOptim(irOptim == JNI_TRUE);
    config->EnableMemoryOptim(memoryOptim == JNI_TRUE);
    config->SetCpuMathLibraryNumThreads(mathThreads);
    if (quietLogging == JNI_TRUE) config->DisableGlogInfo();
    if (onnxRuntime == JNI_TRUE) {
      // The ONNX Runtime session takes its intra-op thread count from SetCpuMathLibraryNumThreads.
      config->EnableONNXRuntime();
      config->EnableORTOptimization();
    }
    QuietStdout quiet(quietLogging == JNI_TRUE);
    auto predictor = std::make_unique<paddle_infer::Predictor>(*config);
    created = new PredictorHandle(std::move(predictor));
  });
  return reinterpret_cast<jlong>(created);
}

JNIEXPORT jlong JNICALL Java_io_inferencefleet_paddle_PaddleNative_clonePredictor(JNIEnv* env,
                                                                                  jclass,
                                                                                  jlong handle) {
  PredictorHandle* created = nullptr;
  guarded(env, "cloning Paddle predictor", [&] {
    created = new PredictorHandle(handleOf(handle)->predictor->Clone());
  });
  return reinterpret_cast<jlong>(created);
}

JNIEXPORT void JNICALL Java_io_inferencefleet_paddle_PaddleNative_destroyPredictor(JNIEnv* env,
                                                                                   jclass,
                                                                                   jlong handle) {
  guarded(env, "destroying Paddle predictor", [&] { delete handleOf(handle); });
}

JNIEXPORT jint JNICALL Java_io_inferencefleet_paddle_PaddleNative_engine(JNIEnv*, jclass,
                                                                         jlong handle) {
  return handleOf(handle)->engine;
}

JNIEXPORT jobjectArray JNICALL Java_io_inferencefleet_paddle_PaddleNative_inputNames(JNIEnv* env,
                                                                                     jclass,
                                                                                     jlong handle) {
  return toJavaStrings(env, handleOf(handle)->input_names);
}

JNIEXPORT jobjectArray JNICALL
Java_io_inferencefleet_paddle_PaddleNative_outputNames(JNIEnv* env, jclass, jlong handle) {
  return toJavaStrings(env, handleOf(handle)->output_names);
}

JNIEXPORT void JNICALL Java_io_inferencefleet_paddle_PaddleNative_shareInput(
    JNIEnv* env, jclass, jlong handle, jint index, jlong address, jintArray shape) {
  const jsize rank = env->GetArrayLength(shape);
  if (rank <= 0 || rank > kMaxRank) {
    throwJava(env, "java/lang/IllegalArgumentException", "input rank must be 1.." +
                                                            std::to_string(kMaxRank));
    return;
  }
  jint dims[kMaxRank];
  env->GetIntArrayRegion(shape, 0, rank, dims);
  if (env->ExceptionCheck()) return;
  guarded(env, "sharing input tensor with Paddle", [&] {
    std::vector<int> shapeVector(dims, dims + rank);
    // Zero copy: Paddle's input tensor points at the caller's memory until the next share.
    handleOf(handle)->inputs.at(static_cast<std::size_t>(index))
        ->ShareExternalData<float>(reinterpret_cast<const float*>(address), shapeVector,
                                   paddle_infer::PlaceType::kCPU,
                                   paddle_infer::DataLayout::kNCHW);
  });
}

JNIEXPORT void JNICALL Java_io_inferencefleet_paddle_PaddleNative_run(JNIEnv* env, jclass,
                                                                      jlong handle) {
  guarded(env, "running Paddle predictor", [&] {
    if (!handleOf(handle)->predictor->Run()) {
      // ONNX Runtime's errors are caught inside Paddle, logged, and reported only as false.
      throwPaddle(env, std::string("running Paddle predictor: Run() returned false") +
                           (handleOf(handle)->engine == kEngineOnnxRuntime
                                ? " (ONNX Runtime rejected the run; Paddle logged its reason on stderr)"
                                : ""));
    }
  });
}

JNIEXPORT jintArray JNICALL Java_io_inferencefleet_paddle_PaddleNative_outputShape(JNIEnv* env,
                                                                                   jclass,
                                                                                   jlong handle,
                                                                                   jint index) {
  std::vector<int> dims;
  guarded(env, "reading Paddle output shape", [&] {
    dims = handleOf(handle)->outputs.at(static_cast<std::size_t>(index))->shape();
  });
  if (env->ExceptionCheck()) return nullptr;
  jintArray result = env->NewIntArray(static_cast<jsize>(dims.size()));
  if (result == nullptr) return nullptr;
  env->SetIntArrayRegion(result, 0, static_cast<jsize>(dims.size()),
                         reinterpret_cast<const jint*>(dims.data()));
  return result;
}

JNIEXPORT jlong JNICALL Java_io_inferencefleet_paddle_PaddleNative_copyOutputToAddress(
    JNIEnv* env, jclass, jlong handle, jint index, jlong address, jlong capacityFloats) {
  return copyOutput(env, handle, index, capacityFloats, [&](paddle_infer::Tensor* out) {
    out->CopyToCpu<float>(reinterpret_cast<float*>(address));
    return true;
  });
}

JNIEXPORT jlong JNICALL Java_io_inferencefleet_paddle_PaddleNative_copyOutputToArray(
    JNIEnv* env, jclass, jlong handle, jint index, jfloatArray destination) {
  return copyOutput(env, handle, index, env->GetArrayLength(destination), [&](paddle_infer::Tensor* out) {
    void* elements = env->GetPrimitiveArrayCritical(destination, nullptr);
    if (elements == nullptr) return false;  // OutOfMemoryError pending
    try {
      out->CopyToCpu<float>(static_cast<float*>(elements));
    } catch (...) {
      env->ReleasePrimitiveArrayCritical(destination, elements, JNI_ABORT);
      throw;
    }
    env->ReleasePrimitiveArrayCritical(destination, elements, 0);
    return true;
  });
}

JNIEXPORT jlong JNICALL Java_io_inferencefleet_paddle_PaddleNative_tryShrinkMemory(JNIEnv* env,
                                                                                   jclass,
                                                                                   jlong handle) {
  jlong released = 0;
  guarded(env, "shrinking Paddle memory", [&] {
    released = static_cast<jlong>(handleOf(handle)->predictor->TryShrinkMemory());
  });
  return released;
}

JNIEXPORT jlong JNICALL Java_io_inferencefleet_paddle_PaddleNative_directBufferAddress(
    JNIEnv* env, jclass, jobject buffer) {
  return reinterpret_cast<jlong>(env->GetDirectBufferAddress(buffer));
}

}  // extern "C"
