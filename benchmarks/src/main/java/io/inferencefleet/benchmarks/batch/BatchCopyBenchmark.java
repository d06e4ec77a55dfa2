package io.inferencefleet.benchmarks.batch;

import java.util.concurrent.TimeUnit;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What micro-batching pays for its contiguous buffer: the copy of one preprocessed tensor from a
 * lane's shared memory into the predictor's batch buffer, exactly as {@code PredictorAgent} does it
 * ({@link UnsafeBuffer#putBytes}, 64-byte-aligned source and target). The batch buffer and the source
 * region are larger than the last-level cache, so every copy reads and writes memory, as it does
 * behind a decoder that wrote the tensor a while ago. Compare with one inference of the same tensor.
 *
 * <pre>java @jvm.options -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main BatchCopyBenchmark</pre>
 */
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class BatchCopyBenchmark {
    /** 3 x 224 x 224 float32 (ResNet-50's input); 3 x 384 x 384 for a larger model. */
    @Param({"602112", "1769472"})
    public int tensorBytes;

    private static final int SLOTS = 64;
    private UnsafeBuffer lane;
    private UnsafeBuffer batch;
    private final UnsafeBuffer source = new UnsafeBuffer(0, 0);
    private int next;

    @Setup
    public void allocate() {
        lane = new UnsafeBuffer(BufferUtil.allocateDirectAligned(SLOTS * tensorBytes, 64));
        batch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(SLOTS * tensorBytes, 64));
        for (int i = 0; i < lane.capacity(); i += 8) {
            lane.putLong(i, i);
            batch.putLong(i, 0);
        }
    }

    @Benchmark
    public UnsafeBuffer copyOneTensorIntoTheBatch() {
        int slot = next;
        next = (next + 1) % SLOTS;
        source.wrap(lane.addressOffset() + (long) slot * tensorBytes, tensorBytes);
        batch.putBytes(slot * tensorBytes, source, 0, tensorBytes);
        return batch;
    }
}
