// Loaded (and called) before the JNI shim, and so before libpaddle_inference.so: the OpenBLAS and
// glog statically linked into Paddle read their environment variables once, while the library
// loads, and a JVM cannot change its own environment from Java. Each default is applied only
// when the user has not set the variable.
//
//  * OPENBLAS_NUM_THREADS=1: otherwise OpenBLAS starts nproc-1 threads at load, on the loading
//    thread's CPUs (unpinned). Predictors add the math threads they ask for later, from the
//    creating (pinned) thread.
//  * OPENBLAS_CORETYPE=Haswell when the CPU has AVX2 and FMA: on VMs that mask the CPU model,
//    Paddle's OpenBLAS falls back to its generic "Prescott" kernels, which made ResNet-50 run
//    1.8x slower here (measured 250 ms vs 140 ms per image on one thread).
//  * GLOG_minloglevel=2: Paddle's informational and warning lines off; errors still print.
#include <jni.h>

#include <cstdlib>
#include <string>

#include "io_inferencefleet_paddle_PaddleNative.h"

extern "C" JNIEXPORT jstring JNICALL
Java_io_inferencefleet_paddle_PaddleNative_prepareEnvironment(JNIEnv* env, jclass) {
  std::string applied;
  auto setDefault = [&applied](const char* name, const char* value) {
    if (std::getenv(name) == nullptr && setenv(name, value, 0) == 0) {
      applied += std::string(applied.empty() ? "" : " ") + name + "=" + value;
    }
  };
  setDefault("OPENBLAS_NUM_THREADS", "1");
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    setDefault("OPENBLAS_CORETYPE", "Haswell");
  }
  setDefault("GLOG_minloglevel", "2");
  return env->NewStringUTF(applied.c_str());
}
