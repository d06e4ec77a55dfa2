package io.inferencefleet.benchmarks.shm;

import io.inferencefleet.shm.ClaimStatus;
import io.inferencefleet.shm.TensorClaim;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.shm.TensorQueueConfig;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.shm.TensorWriter;
import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import org.agrona.BufferUtil;
import org.agrona.IoUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/** The contenders of the shm benchmark. */
final class Contenders {
    private Contenders() {}

    static final Path BENCH_ROOT = Path.of("/dev/shm/inference-fleet-bench");

    /** Our transport: Chronicle Queue, zero-copy claim/commit, optional pre-faulting. */
    static final class ChronicleShm implements Contender {
        private final TensorQueue queue;
        private TensorWriter writer;
        private TensorClaim claim;
        private TensorReader reader;
        private final String workerId;

        ChronicleShm(String workerId, boolean prefault, int capacityTensors) {
            this.workerId = workerId;
            queue = TensorQueue.open(TensorQueueConfig.builder().workerId(workerId).directory(BENCH_ROOT.resolve(workerId))
                    .capacityTensors(capacityTensors).capacityBytes(capacityTensors * 610_000L)
                    .prefaultAheadBytes(prefault ? 4L << 20 : 0)
                    .housekeeperThreadFactory(r -> new Thread(() -> {
                        ShmBenchmarkSuite.pin(ShmBenchmarkSuite.PRODUCER_CPU);  // next to the writer, away from the reader
                        r.run();
                    })).build());
        }

        Path directory() {
            return queue.directory();
        }

        @Override
        public boolean prepare(long seq, long sourceAddress, int bytes) {
            if (writer == null) {
                writer = queue.writer();
                claim = writer.newClaim();
            }
            if (writer.tryClaim(bytes, claim) != ClaimStatus.OK) {
                return false;
            }
            UnsafeApi.copyMemory(sourceAddress, claim.address(), bytes);
            claim.buffer().putLong(0, seq);
            claim.source(0, seq).shape(3, 224, 224);
            return true;
        }

        @Override
        public long preparedAddress() {
            return claim.address();
        }

        @Override
        public void send() {
            claim.commit();
        }

        @Override
        public int poll(Receiver receiver, int max) {
            if (reader == null) {
                reader = queue.reader("predictor");
            }
            return reader.poll(v -> receiver.onTensor(v.buffer().getLong(0), v.address(), v.lengthBytes()), max);
        }

        @Override
        public int copiesPerTensor() {
            return 0;
        }

        @Override
        public String helperThreadPrefix() {
            return "shm-housekeeper-" + workerId;
        }

        @Override
        public void close() {
            if (reader != null) {
                reader.close();
            }
            queue.close();
        }
    }

    /** The naive baseline: ArrayBlockingQueue of float[]; copy in, and copy out to native memory for Paddle. */
    static final class BlockingQueueCopy implements Contender {
        private static final long FLOAT_BASE = UnsafeApi.arrayBaseOffset(float[].class);
        private final ArrayBlockingQueue<float[]> queue;
        private final float[] scratch;
        private final java.nio.ByteBuffer paddleInput;
        private final long paddleInputAddress;
        private final int floats;

        BlockingQueueCopy(int capacity, int bytes) {
            queue = new ArrayBlockingQueue<>(capacity);
            floats = bytes / 4;
            scratch = new float[floats];
            paddleInput = BufferUtil.allocateDirectAligned(bytes, 64);
            paddleInputAddress = BufferUtil.address(paddleInput);
        }

        @Override
        public boolean prepare(long seq, long sourceAddress, int bytes) {
            if (queue.remainingCapacity() == 0) {
                return false;
            }
            UnsafeApi.copyMemory(null, sourceAddress, scratch, FLOAT_BASE, bytes);  // the preprocess write
            scratch[0] = Float.intBitsToFloat((int) seq);
            return true;
        }

        @Override
        public long preparedAddress() {
            return -1;  // a heap array: Paddle cannot take it without a copy
        }

        @Override
        public void send() {
            queue.offer(scratch.clone());  // copy 1: into the queue's array
        }

        @Override
        public int poll(Receiver receiver, int max) {
            int n = 0;
            float[] t;
            while (n < max && (t = queue.poll()) != null) {
                UnsafeApi.copyMemory(t, FLOAT_BASE, null, paddleInputAddress, (long) t.length * 4);  // copy 2: to Paddle
                receiver.onTensor(Float.floatToRawIntBits(t[0]), paddleInputAddress, t.length * 4);
                n++;
            }
            return n;
        }

        @Override
        public int copiesPerTensor() {
            return 2;
        }

        @Override
        public void close() {
            queue.clear();
        }
    }

    /** Agrona OneToOneRingBuffer over one reused /dev/shm mapping: zero-copy, pages faulted once. */
    static final class AgronaRing implements Contender {
        private final File file;
        private final MappedByteBuffer mapped;
        private final OneToOneRingBuffer ring;
        private final UnsafeBuffer buffer;
        private int claimed = -1;

        AgronaRing(String name, int capacityBytes) {
            BENCH_ROOT.toFile().mkdirs();
            file = BENCH_ROOT.resolve(name + ".ring").toFile();
            mapped = IoUtil.mapNewFile(file, capacityBytes + RingBufferDescriptor.TRAILER_LENGTH, true);
            buffer = new UnsafeBuffer(mapped);
            ring = new OneToOneRingBuffer(buffer);
        }

        @Override
        public boolean prepare(long seq, long sourceAddress, int bytes) {
            int index = ring.tryClaim(1, bytes);
            if (index < 0) {
                return false;
            }
            claimed = index;
            UnsafeApi.copyMemory(sourceAddress, buffer.addressOffset() + index, bytes);
            buffer.putLong(index, seq);
            return true;
        }

        @Override
        public long preparedAddress() {
            return buffer.addressOffset() + claimed;
        }

        @Override
        public void send() {
            ring.commit(claimed);
        }

        @Override
        public int poll(Receiver receiver, int max) {
            return ring.read((type, b, index, length) -> receiver.onTensor(b.getLong(index), b.addressOffset() + index, length), max);
        }

        @Override
        public int copiesPerTensor() {
            return 0;
        }

        @Override
        public void close() {
            IoUtil.unmap(mapped);
            file.delete();
        }
    }
}
