package io.inferencefleet.paddle;

import java.nio.Buffer;

/**
 * The JNI boundary: one static native method per entry point of {@code fleet_paddle_jni.cpp}.
 * Package-private and deliberately thin: handles are raw {@code long}s and arguments are not
 * checked here. {@link Predictor} owns every handle and validates every argument before calling in.
 */
final class PaddleNative {
    private PaddleNative() {}

    /**
     * Sets the environment defaults Paddle's OpenBLAS and glog read while loading (implemented in
     * {@code libfleet_paddle_env.so}, loaded before the shim). Returns what was set.
     */
    static native String prepareEnvironment();

    /** Does nothing; measures the cost of crossing the JNI boundary. */
    static native void noop();

    /** Sets process-wide Paddle flags once and returns Paddle's version string. */
    static native String initialize();

    static native long createPredictor(
            String modelFile, String paramsFile, int mathThreads,
            boolean irOptim, boolean memoryOptim, boolean quietLogging, boolean onnxRuntime);

    /** The engine Paddle actually built for this predictor: {@link Engine#ordinal()}. */
    static native int engine(long handle);

    static native long clonePredictor(long handle);

    static native void destroyPredictor(long handle);

    static native String[] inputNames(long handle);

    static native String[] outputNames(long handle);

    /** Points input {@code index} at {@code address} (float32, the given shape) without copying. */
    static native void shareInput(long handle, int index, long address, int[] shape);

    static native void run(long handle);

    static native int[] outputShape(long handle, int index);

    /** Returns floats copied, or minus the floats needed when {@code capacityFloats} is too small. */
    static native long copyOutputToAddress(long handle, int index, long address, long capacityFloats);

    /** Returns floats copied, or minus the floats needed when the array is too small. */
    static native long copyOutputToArray(long handle, int index, float[] destination);

    static native long tryShrinkMemory(long handle);

    /** The native address of a direct buffer's element 0. */
    static native long directBufferAddress(Buffer direct);
}
