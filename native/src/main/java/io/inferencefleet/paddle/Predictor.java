package io.inferencefleet.paddle;

import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Paddle Inference predictor, with zero-copy float32 input.
 *
 * <h2>Usage</h2>
 * <pre>{@code
 * try (Predictor predictor = Predictor.create(config)) {
 *     float[] probabilities = new float[1000];
 *     predictor.run(tensorAddress, tensorBytes, 1, 3, 224, 224);  // Paddle reads the memory in place
 *     predictor.copyOutput(0, probabilities);
 * }
 * }</pre>
 *
 * <h2>Threading contract</h2>
 * A predictor is single-owner: one thread uses it at a time, and that thread also closes it.
 * For parallelism give every thread its own predictor: create one, then let each other thread call
 * {@link #cloneSharingWeights()} <em>on that thread</em>. Clones share the weights (no extra copy of
 * the parameters) and are independent otherwise; closing one never affects the others. Creating
 * and closing clones of one family is serialised internally (Paddle does not lock the shared
 * weights' scope), so it is safe from any thread but not a hot-path operation.
 * Paddle's CPU math threads are started when a predictor is created or cloned and inherit the CPU
 * affinity of the creating thread, so pin a thread <em>before</em> it creates or clones its
 * predictor and all of that predictor's threads stay on the pinned CPUs. The math-thread pool
 * (OpenBLAS) is process-wide: threads are added when a predictor asks for more than exist and are
 * then shared by every predictor of the process. Hence one worker process per NUMA node. Loading
 * the library starts no math thread of its own: the binding sets {@code OPENBLAS_NUM_THREADS=1}
 * before Paddle loads unless the user set it (see {@code fleet_paddle_env.cpp}).
 * On {@link Engine#ONNXRUNTIME} the math threads are the ONNX Runtime session's intra-op pool:
 * {@code mathThreads - 1} threads (the calling thread works too) started by, and pinned like, the
 * thread that creates the original; clones share that session and its pool and start no thread.
 *
 * <h2>Zero-copy input</h2>
 * {@link #setInput(int, long, long, int...)} hands Paddle the address of caller-owned memory.
 * Paddle reads it during {@link #run()} without copying it; the memory must stay valid and
 * unchanged until {@code run()} returns, and may be reused or released afterwards.
 *
 * <h2>Errors</h2>
 * Invalid arguments are rejected in Java with {@link IllegalArgumentException} before Paddle sees
 * them. Failures inside Paddle arrive as {@link PaddleException} with Paddle's message; the
 * predictor stays usable after a failed {@code run()}. Any method but {@link #close()} throws
 * {@link IllegalStateException} once the predictor is closed; {@code close()} is idempotent.
 */
public final class Predictor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Predictor.class);
    private static final Cleaner CLEANER = Cleaner.create(runnable -> {
        Thread thread = new Thread(runnable, "paddle-predictor-cleaner");
        thread.setDaemon(true);
        return thread;
    });

    private final PredictorConfig config;
    private final ModelInfo model;
    private final Engine engine;
    private final NativeHandle handle;
    private final Cleaner.Cleanable cleanable;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;

    private Predictor(PredictorConfig config, ModelInfo model, Object weightsLock, long rawHandle) {
        this.config = config;
        this.model = model;
        this.handle = new NativeHandle(rawHandle, weightsLock);
        this.cleanable = CLEANER.register(this, handle);
        try {
            this.engine = Engine.fromCode(PaddleNative.engine(rawHandle));
            this.inputs = describe(PaddleNative.inputNames(rawHandle), model.feeds());
            this.outputs = describe(PaddleNative.outputNames(rawHandle), model.fetches());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Validates the model files in Java (a malformed {@code .pdmodel} would crash Paddle itself),
     * then loads the model on the engine {@link PredictorConfig#engine()} asks for.
     *
     * @throws EngineUnavailableException when ONNX Runtime was asked for and Paddle built its own
     *     engine instead (paddle2onnx could not convert the program)
     * @throws PaddleException when the files are missing or invalid, or Paddle cannot load them
     */
    public static Predictor create(PredictorConfig config) {
        ModelInfo model = ModelReader.read(config.modelFile());
        ParamsFile.validate(config.paramsFile(), model);
        NativeLibrary.ensureLoaded();
        long rawHandle = PaddleNative.createPredictor(
                config.modelFile().toAbsolutePath().toString(), config.paramsFile().toAbsolutePath().toString(),
                config.mathThreads(), config.irOptim(), config.memoryOptim(), config.quietLogging(),
                config.engine() == Engine.ONNXRUNTIME);
        Predictor predictor = new Predictor(config, model, new Object(), rawHandle);
        if (predictor.engine() != config.engine()) {
            predictor.close();
            throw new EngineUnavailableException(config.engine(), predictor.engine(), config.engine() == Engine.ONNXRUNTIME
                    // Paddle's only trace is a WARNING (hidden by GLOG_minloglevel=2) that names no operator.
                    ? "paddle2onnx could not convert the program (typically an operator it has no converter for;"
                            + " Paddle does not say which), so Paddle built its own engine"
                    : "Paddle built a different engine than asked for");
        }
        return predictor;
    }

    /** Paddle Inference's version string; loads the native libraries if needed. */
    public static String paddleVersion() {
        return NativeLibrary.ensureLoaded();
    }

    /**
     * A new predictor over the same weights, for use by the calling thread (see the threading
     * contract above: clone on the thread that will use the clone). On {@link Engine#ONNXRUNTIME}
     * a clone shares the original's ONNX Runtime session, hence also its intra-op thread pool, whose
     * threads were started (and pinned) by the thread that created the original.
     */
    public Predictor cloneSharingWeights() {
        long rawHandle;
        synchronized (handle.weightsLock) {
            rawHandle = PaddleNative.clonePredictor(handle.get());
        }
        return new Predictor(config, model, handle.weightsLock, rawHandle);
    }

    public PredictorConfig config() {
        return config;
    }

    /** The engine that runs this predictor, as read from the predictor Paddle built (clones share it). */
    public Engine engine() {
        return engine;
    }

    /** The validated program this predictor runs (feeds, fetches, ops, parameters). */
    public ModelInfo model() {
        return model;
    }

    /** Inputs in Paddle's order, with the shapes the model declares. */
    public List<TensorSpec> inputs() {
        return inputs;
    }

    /** Outputs in Paddle's order, with declared shapes; actual shapes after a run: {@link #outputShape(int)}. */
    public List<TensorSpec> outputs() {
        return outputs;
    }

    /**
     * Points input {@code index} at {@code lengthBytes} bytes of float32 data at {@code address},
     * laid out densely in {@code shape} (NCHW for images). Nothing is copied.
     *
     * @throws IllegalArgumentException if the shape does not fit the model's declared input shape,
     *     or the memory is smaller than the shape needs, or the address is null or misaligned
     */
    public void setInput(int index, long address, long lengthBytes, int... shape) {
        long raw = handle.get();
        checkInput(index, address, lengthBytes, shape);
        PaddleNative.shareInput(raw, index, address, shape);
    }

    /** Like {@link #setInput(int, long, long, int...)} for a direct buffer, from its position. */
    public void setInput(int index, FloatBuffer direct, int... shape) {
        long address = addressOf(direct);
        setInput(index, address, (long) direct.remaining() * Float.BYTES, shape);
    }

    /** Runs the model on the inputs set since creation. The predictor stays usable if this throws. */
    public void run() {
        PaddleNative.run(handle.get());
    }

    /** Sets input 0 and runs: the common case of a single-input model. */
    public void run(long address, long lengthBytes, int... shape) {
        setInput(0, address, lengthBytes, shape);
        run();
    }

    /** The shape of output {@code index} as produced by the last {@link #run()}. */
    public int[] outputShape(int index) {
        long raw = handle.get();
        checkIndex(index, outputs.size(), "output");
        return PaddleNative.outputShape(raw, index);
    }

    /**
     * Copies output {@code index} of the last run into {@code destination} from element 0.
     *
     * @return the number of floats written
     * @throws IllegalArgumentException if {@code destination} is too small, naming the size needed
     */
    public int copyOutput(int index, float[] destination) {
        long raw = handle.get();
        checkIndex(index, outputs.size(), "output");
        long copied = PaddleNative.copyOutputToArray(raw, index, destination);
        return (int) checkCopied(index, copied, destination.length);
    }

    /**
     * Copies output {@code index} of the last run to native memory at {@code address}.
     *
     * @return the number of floats written
     */
    public long copyOutput(int index, long address, long capacityBytes) {
        long raw = handle.get();
        checkIndex(index, outputs.size(), "output");
        checkAddress(address, "output destination");
        long capacityFloats = capacityBytes / Float.BYTES;
        return checkCopied(index, PaddleNative.copyOutputToAddress(raw, index, address, capacityFloats),
                capacityFloats);
    }

    /** Copies output {@code index} of the last run into a direct buffer, from its position. */
    public int copyOutput(int index, FloatBuffer direct) {
        long written = copyOutput(index, addressOf(direct), (long) direct.remaining() * Float.BYTES);
        return (int) written;
    }

    /** Asks Paddle to release cached intermediate memory; returns the bytes released. */
    public long tryShrinkMemory() {
        return PaddleNative.tryShrinkMemory(handle.get());
    }

    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Releases the native predictor. Idempotent; clones are unaffected. */
    @Override
    public void close() {
        handle.closedExplicitly = true;
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "Predictor{" + (isClosed() ? "closed, " : "") + "engine=" + engine.key() + ", inputs=" + inputs + ", outputs=" + outputs
                + ", " + config + '}';
    }

    private void checkInput(int index, long address, long lengthBytes, int[] shape) {
        checkIndex(index, inputs.size(), "input");
        checkAddress(address, "input");
        TensorSpec spec = inputs.get(index);
        if (spec.dataType() != VarType.Type.FP32) {
            throw new IllegalArgumentException("Input '" + spec.name() + "' is " + spec.dataType()
                    + "; this binding feeds float32 inputs only");
        }
        if (shape.length != spec.rank()) {
            throw new IllegalArgumentException("Input '" + spec.name() + "' has rank " + spec.rank() + " "
                    + spec + ", got shape " + java.util.Arrays.toString(shape));
        }
        long elements = 1;
        for (int axis = 0; axis < shape.length; axis++) {
            if (shape[axis] <= 0) {
                throw new IllegalArgumentException("Input '" + spec.name() + "' dimension " + axis
                        + " must be positive, got shape " + java.util.Arrays.toString(shape));
            }
            if (spec.dim(axis) >= 0 && spec.dim(axis) != shape[axis]) {
                throw new IllegalArgumentException("Input '" + spec.name() + "' dimension " + axis
                        + " is declared " + spec.dim(axis) + " by the model " + spec + ", got shape "
                        + java.util.Arrays.toString(shape));
            }
            elements *= shape[axis];
        }
        if (elements * Float.BYTES > lengthBytes) {
            throw new IllegalArgumentException("Input '" + spec.name() + "' of shape "
                    + java.util.Arrays.toString(shape) + " needs " + elements * Float.BYTES
                    + " bytes of float32, memory holds " + lengthBytes);
        }
    }

    private static void checkIndex(int index, int count, String what) {
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("No " + what + " " + index + ": the model has " + count);
        }
    }

    private static void checkAddress(long address, String what) {
        if (address == 0 || (address & (Float.BYTES - 1)) != 0) {
            throw new IllegalArgumentException("The " + what + " address 0x" + Long.toHexString(address)
                    + " must be non-null and 4-byte aligned");
        }
    }

    private long checkCopied(int index, long copied, long capacityFloats) {
        if (copied < 0) {
            throw new IllegalArgumentException("Output '" + outputs.get(index).name() + "' has " + -copied
                    + " floats, the destination holds " + capacityFloats);
        }
        return copied;
    }

    private static long addressOf(FloatBuffer buffer) {
        if (!buffer.isDirect() || buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("Expected a direct FloatBuffer in native byte order, got " + buffer);
        }
        return PaddleNative.directBufferAddress(buffer) + (long) buffer.position() * Float.BYTES;
    }

    /** Paddle's names, in Paddle's order, with the declarations the validated program gives them. */
    private static List<TensorSpec> describe(String[] paddleNames, List<TensorSpec> declared) {
        List<TensorSpec> specs = new ArrayList<>(paddleNames.length);
        for (String name : paddleNames) {
            specs.add(declared.stream().filter(spec -> spec.name().equals(name)).findFirst()
                    .orElseThrow(() -> new PaddleException("Paddle reports tensor '" + name
                            + "' that the program does not declare as feed or fetch: " + declared)));
        }
        return Collections.unmodifiableList(specs);
    }

    /** The native handle, shared with the Cleaner; it must not reference the Predictor. */
    private static final class NativeHandle implements Runnable {
        private final AtomicLong raw;
        /**
         * Shared by a predictor and all its clones. Clones' working scopes are children of the
         * scope that holds the shared weights, and Paddle's inference build adds and removes
         * children without a lock. A benchmark JVM crashed once (SIGSEGV in
         * {@code ~AnalysisPredictor -> ~Scope -> Scope::DropKids}) when an original and its clones
         * were closed on two threads at once, so creating and destroying members of a family is
         * serialised here. {@code run()} does not touch that scope and needs no lock.
         */
        private final Object weightsLock;
        private volatile boolean closedExplicitly;

        NativeHandle(long raw, Object weightsLock) {
            this.raw = new AtomicLong(raw);
            this.weightsLock = weightsLock;
        }

        long get() {
            long value = raw.get();
            if (value == 0) {
                throw new IllegalStateException("Predictor is closed");
            }
            return value;
        }

        boolean isClosed() {
            return raw.get() == 0;
        }

        @Override
        public void run() {
            long value = raw.getAndSet(0);
            if (value != 0) {
                if (!closedExplicitly) {
                    LOG.warn("event=predictor_leaked action=closed_by_cleaner hint=\"close() every Predictor\"");
                }
                synchronized (weightsLock) {
                    PaddleNative.destroyPredictor(value);
                }
            }
        }
    }
}
