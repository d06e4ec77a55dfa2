package io.inferencefleet.shm.internal;

import io.inferencefleet.shm.ClaimStatus;
import io.inferencefleet.shm.DType;
import io.inferencefleet.shm.TensorClaim;
import io.inferencefleet.shm.TensorQueueLimits;
import io.inferencefleet.shm.TensorWriter;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.function.BiConsumer;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * Writes each tensor record in place inside a Chronicle document: the document stays open (and
 * holds Chronicle's write lock) from claim to commit, the claimant fills the tensor through the
 * raw address, and closing the document publishes it.
 */
final class ChronicleTensorWriter implements TensorWriter {
    private final SingleChronicleQueue queue;
    private final int maxTensorBytes;
    private final int maxKeyBytes;
    private final long capacityBytes;
    private final long capacityTensors;
    private final AtomicCounter tensorsWritten;
    private final AtomicCounter bytesWritten;
    private final AtomicCounter backPressureEvents;
    private final AtomicCounter depthTensors;
    private final AtomicCounter depthBytes;
    private final AtomicCounter[] readerTensors;
    private final AtomicCounter[] readerBytes;
    private volatile boolean closed;
    private volatile long nextWriteAddress;
    private volatile int currentCycle = Integer.MAX_VALUE;
    private volatile BiConsumer<Integer, File> cycleListener;
    private volatile Runnable claimListener;
    private ExcerptAppender appender;
    private Thread ownerThread;

    ChronicleTensorWriter(SingleChronicleQueue queue, int maxTensorBytes, int maxKeyBytes, long capacityBytes,
            long capacityTensors, AtomicCounter tensorsWritten, AtomicCounter bytesWritten, AtomicCounter backPressureEvents,
            AtomicCounter depthTensors, AtomicCounter depthBytes, AtomicCounter[] readerTensors, AtomicCounter[] readerBytes) {
        this.queue = queue;
        this.maxTensorBytes = maxTensorBytes;
        this.maxKeyBytes = maxKeyBytes;
        this.capacityBytes = capacityBytes;
        this.capacityTensors = capacityTensors;
        this.tensorsWritten = tensorsWritten;
        this.bytesWritten = bytesWritten;
        this.backPressureEvents = backPressureEvents;
        this.depthTensors = depthTensors;
        this.depthBytes = depthBytes;
        this.readerTensors = readerTensors;
        this.readerBytes = readerBytes;
    }

    @Override
    public TensorClaim newClaim() {
        return new Claim();
    }

    @Override
    public int tryClaim(int tensorBytes, TensorClaim tensorClaim) {
        if (tensorBytes < 1 || tensorBytes > maxTensorBytes) {
            throw new IllegalArgumentException("Invalid value " + tensorBytes + " for tensorBytes: must be in [1, " + maxTensorBytes + "]");
        }
        if (!(tensorClaim instanceof Claim claim) || claim.writer() != this) {
            throw new IllegalArgumentException("claim was not created by this writer's newClaim()");
        }
        if (claim.context != null) {
            throw new IllegalStateException("claim is still open: commit or abort it first");
        }
        if (closed) {
            return ClaimStatus.CLOSED;
        }
        checkThread();
        long writtenT = tensorsWritten.getPlain();
        long writtenB = bytesWritten.getPlain();
        long consumedT = Long.MAX_VALUE;
        long consumedB = Long.MAX_VALUE;
        for (int i = 0; i < readerTensors.length; i++) {
            consumedT = Math.min(consumedT, readerTensors[i].get());
            consumedB = Math.min(consumedB, readerBytes[i].get());
        }
        long backlogT = writtenT - consumedT;
        long backlogB = writtenB - consumedB;
        depthTensors.setRelease(backlogT);
        depthBytes.setRelease(backlogB);
        if (backlogT + 1 > capacityTensors
                || backlogB + RecordLayout.maxRecordBytes(tensorBytes, maxKeyBytes) > capacityBytes) {
            backPressureEvents.incrementRelease();
            return ClaimStatus.BACK_PRESSURED;
        }
        if (appender == null) {
            appender = queue.createAppender();
        }
        DocumentContext dc = appender.writingDocument();
        try {
            Bytes<?> bytes = dc.wire().bytes();
            long body = bytes.writePosition();
            int tensorOffset = RecordLayout.tensorOffset(body, maxKeyBytes);
            int total = tensorOffset + tensorBytes;
            bytes.writeSkip(total);
            // Two-argument form: maps [body, body + total) contiguously in one mapping.
            long address = bytes.addressForRead(body, total);
            claim.open(dc, body, address, tensorOffset, tensorBytes);
            int cycle = appender.cycle();
            if (cycle != currentCycle) {
                onNewCycle(cycle);
            }
            nextWriteAddress = address + total;
            Runnable wake = claimListener;
            if (wake != null) {
                wake.run();
            }
            return ClaimStatus.OK;
        } catch (RuntimeException e) {
            dc.rollbackOnClose();
            dc.close();
            throw e;
        }
    }

    /** Once per roll cycle, on the writer thread: restrict the new file, hand it to housekeeping. */
    private void onNewCycle(int cycle) {
        File file = appender.currentFile();
        if (file != null) {
            try {
                Files.setPosixFilePermissions(file.toPath(), DirectoryOwnership.FILE_PERMS);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restrict permissions of " + file, e);
            }
            BiConsumer<Integer, File> listener = cycleListener;
            if (listener != null) {
                listener.accept(cycle, file);
            }
        }
        currentCycle = cycle;
    }

    /** Runs on the writer thread after every successful claim (wakes the pre-faulter). */
    void claimListener(Runnable listener) {
        this.claimListener = listener;
    }

    void cycleListener(BiConsumer<Integer, File> listener) {
        this.cycleListener = listener;
    }

    private void checkThread() {
        Thread t = Thread.currentThread();
        if (ownerThread == null) {
            ownerThread = t;
        } else if (ownerThread != t) {
            throw new IllegalStateException("TensorWriter is confined to thread " + ownerThread.getName()
                    + ", called from " + t.getName());
        }
    }

    /** Address just past the last claimed record, for the pre-faulter; 0 before the first claim. */
    long nextWriteAddress() {
        return nextWriteAddress;
    }

    /** Chronicle cycle of the last claim; MAX_VALUE before the first. */
    int currentCycle() {
        return currentCycle;
    }

    void close() {
        closed = true;
    }

    void closeAppender() {
        if (appender != null) {
            appender.close();
        }
    }

    private final class Claim implements TensorClaim {
        private final UnsafeBuffer header = new UnsafeBuffer(0, 0);
        private final UnsafeBuffer tensor = new UnsafeBuffer(0, 0);
        private DocumentContext context;
        private long address;
        private int lengthBytes;
        private long recordBytes;

        ChronicleTensorWriter writer() {
            return ChronicleTensorWriter.this;
        }

        private long bodyPosition;

        void open(DocumentContext dc, long bodyPosition, long bodyAddress, int tensorOffset, int tensorBytes) {
            this.context = dc;
            this.bodyPosition = bodyPosition;
            this.address = bodyAddress + tensorOffset;
            this.lengthBytes = tensorBytes;
            this.recordBytes = RecordLayout.recordBytes(tensorOffset, tensorBytes);
            header.wrap(bodyAddress, RecordLayout.KEY_OFFSET + maxKeyBytes);
            header.setMemory(0, RecordLayout.KEY_OFFSET, (byte) 0);
            header.putInt(RecordLayout.TENSOR_OFFSET_OFFSET, tensorOffset);
            header.putInt(RecordLayout.TENSOR_BYTES_OFFSET, tensorBytes);
            header.putInt(RecordLayout.DTYPE_OFFSET, DType.FLOAT32.code());
            header.putInt(RecordLayout.SOURCE_PARTITION_OFFSET, -1);
            header.putLong(RecordLayout.SOURCE_OFFSET_OFFSET, -1);
            tensor.wrap(address, tensorBytes);
        }

        private void requireOpen() {
            if (context == null) {
                throw new IllegalStateException("claim is not open");
            }
        }

        @Override
        public long address() {
            requireOpen();
            return address;
        }

        @Override
        public int lengthBytes() {
            return lengthBytes;
        }

        @Override
        public UnsafeBuffer buffer() {
            requireOpen();
            return tensor;
        }

        @Override
        public TensorClaim requestKey(CharSequence key) {
            requireOpen();
            int length = 0;
            if (key != null) {
                byte[] utf8 = key.toString().getBytes(StandardCharsets.UTF_8);
                if (utf8.length > maxKeyBytes) {
                    throw new IllegalArgumentException("Invalid value " + key + " for requestKey: " + utf8.length
                            + " UTF-8 bytes exceed maxRequestKeyBytes=" + maxKeyBytes);
                }
                header.putBytes(RecordLayout.KEY_OFFSET, utf8);
                length = utf8.length;
            }
            header.putInt(RecordLayout.KEY_LENGTH_OFFSET, length);
            return this;
        }

        @Override
        public TensorClaim source(int partition, long offset) {
            requireOpen();
            header.putInt(RecordLayout.SOURCE_PARTITION_OFFSET, partition);
            header.putLong(RecordLayout.SOURCE_OFFSET_OFFSET, offset);
            return this;
        }

        @Override
        public TensorClaim shape(int... dims) {
            requireOpen();
            if (dims.length > TensorQueueLimits.MAX_RANK) {
                throw new IllegalArgumentException("Invalid value " + dims.length + " for rank: at most " + TensorQueueLimits.MAX_RANK);
            }
            header.putInt(RecordLayout.RANK_OFFSET, dims.length);
            for (int i = 0; i < dims.length; i++) {
                header.putInt(RecordLayout.DIMS_OFFSET + 4 * i, dims[i]);
            }
            return this;
        }

        @Override
        public TensorClaim dtype(DType dtype) {
            requireOpen();
            header.putInt(RecordLayout.DTYPE_OFFSET, dtype.code());
            return this;
        }

        @Override
        public void commit() {
            requireOpen();
            header.putLong(RecordLayout.ENQUEUE_TIME_OFFSET, System.nanoTime());
            header.putInt(RecordLayout.MAGIC_OFFSET, RecordLayout.MAGIC);
            DocumentContext dc = context;
            context = null;
            // Counters first: a reader that sees the document must not see consumed > written.
            tensorsWritten.incrementRelease();
            bytesWritten.getAndAddRelease(recordBytes);
            dc.close();
        }

        /**
         * Closes the document as a short tombstone (magic 0, shorter than a record header) that
         * readers skip without counting, instead of rolling it back: Chronicle's rollback of a
         * document that stayed open across a roll cycle left the readers stalled or blind to later
         * documents (AbortAcrossRollTest: under CPU load, a claim held over a second boundary and
         * aborted lost 4 of 40 committed tensors, or stalled the writer for good at 8 unread). The
         * counters are untouched, as for a rollback.
         */
        @Override
        public void abort() {
            DocumentContext dc = context;
            if (dc != null) {
                context = null;
                header.putInt(RecordLayout.MAGIC_OFFSET, 0);
                dc.wire().bytes().writePosition(bodyPosition + RecordLayout.TOMBSTONE_BYTES);
                dc.close();
            }
        }

        @Override
        public boolean isOpen() {
            return context != null;
        }
    }
}
