package io.inferencefleet.shm.internal;

import io.inferencefleet.shm.TensorBatch;
import io.inferencefleet.shm.TensorBatchHandler;
import io.inferencefleet.shm.TensorHandler;
import io.inferencefleet.shm.TensorReader;
import io.inferencefleet.shm.TensorView;
import java.util.concurrent.atomic.AtomicBoolean;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * A Chronicle tailer plus this reader's progress counters. A single tensor is read inside an open
 * reading document. A batch needs several records valid at once, so each record's mapping
 * (Chronicle {@link BytesStore}) is reserved until the batch handler returns; a batch never spans
 * two cycles (a document of the next cycle is rolled back and read next time).
 */
final class ChronicleTensorReader implements TensorReader {
    private final String name;
    private final SingleChronicleQueue queue;
    private final AtomicCounter tensors;
    private final AtomicCounter bytes;
    private final AtomicCounter cycle;
    private final AtomicCounter lastIndex;
    private final Runnable onClose;
    private final RecordView single = new RecordView();
    private final Batch batch = new Batch();
    private final ReferenceOwner batchOwner = ReferenceOwner.temporary("tensor-batch");
    private final AtomicBoolean closed = new AtomicBoolean();
    private ExcerptTailer tailer;
    private Thread ownerThread;

    ChronicleTensorReader(String name, SingleChronicleQueue queue, AtomicCounter tensors, AtomicCounter bytes,
            AtomicCounter cycle, AtomicCounter lastIndex, Runnable onClose) {
        this.name = name;
        this.queue = queue;
        this.tensors = tensors;
        this.bytes = bytes;
        this.cycle = cycle;
        this.lastIndex = lastIndex;
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return name;
    }

    private ExcerptTailer tailer() {
        if (closed.get()) {
            throw new IllegalStateException("reader " + name + " is closed");
        }
        Thread t = Thread.currentThread();
        if (ownerThread == null) {
            ownerThread = t;
        } else if (ownerThread != t) {
            throw new IllegalStateException("TensorReader " + name + " is confined to thread " + ownerThread.getName()
                    + ", called from " + t.getName());
        }
        if (tailer == null) {
            queue.refreshDirectoryListing();
            tailer = queue.createTailer();
            long last = lastIndex.get();
            if (last != 0 && tailer.moveToIndex(last)) {
                try (DocumentContext skipped = tailer.readingDocument()) {
                    // the record this reader consumed before it was re-created
                    assert skipped.isPresent() : "consumed record " + last + " vanished";
                }
            } else {
                tailer.toStart();
            }
        }
        return tailer;
    }

    @Override
    public int poll(TensorHandler handler, int maxTensors) {
        ExcerptTailer t = tailer();
        int count = 0;
        while (count < maxTensors) {
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent()) {
                    break;
                }
                Bytes<?> b = dc.wire().bytes();
                long position = b.readPosition();
                int length = (int) b.readRemaining();
                long address = b.addressForRead(position, length);
                if (single.wrap(address, length, dc.index())) {
                    try {
                        handler.onTensor(single);
                    } finally {
                        count++;
                        publishProgress(dc.index(), t.cycle(), 1, single.recordBytes());
                    }
                }
            }
        }
        return count;
    }

    @Override
    public int pollBatch(TensorBatchHandler handler, int maxTensors) {
        ExcerptTailer t = tailer();
        batch.ensureCapacity(maxTensors);
        int firstCycle = Integer.MIN_VALUE;
        long lastIdx = 0;
        long batchBytes = 0;
        try {
            while (batch.size < maxTensors) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    int c = t.cycle();
                    if (firstCycle == Integer.MIN_VALUE) {
                        firstCycle = c;
                    } else if (c != firstCycle) {
                        dc.rollbackOnClose();
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    long position = b.readPosition();
                    int length = (int) b.readRemaining();
                    long address = b.addressForRead(position, length);
                    BytesStore<?, ?> store = b.bytesStore();
                    RecordView view = batch.views[batch.size];
                    if (view.wrap(address, length, dc.index())) {
                        store.reserve(batchOwner);
                        batch.stores[batch.size] = store;
                        batch.size++;
                        batchBytes += view.recordBytes();
                    }
                    lastIdx = dc.index();
                }
            }
            if (batch.size > 0) {
                handler.onBatch(batch);
            }
            return batch.size;
        } finally {
            int n = batch.size;
            for (int i = 0; i < n; i++) {
                batch.stores[i].release(batchOwner);
                batch.stores[i] = null;
            }
            batch.size = 0;
            if (n > 0) {
                publishProgress(lastIdx, firstCycle, n, batchBytes);
            }
        }
    }

    private void publishProgress(long index, int currentCycle, int count, long recordBytes) {
        lastIndex.setRelease(index);
        cycle.setRelease(currentCycle);
        bytes.getAndAddRelease(recordBytes);
        tensors.getAndAddRelease(count);  // last: the writer's back-pressure reads this one
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (tailer != null) {
                tailer.close();
            }
            onClose.run();
        }
    }

    private static final class Batch implements TensorBatch {
        RecordView[] views = new RecordView[0];
        BytesStore<?, ?>[] stores = new BytesStore<?, ?>[0];
        int size;

        void ensureCapacity(int n) {
            if (views.length < n) {
                RecordView[] v = new RecordView[n];
                System.arraycopy(views, 0, v, 0, views.length);
                for (int i = views.length; i < n; i++) {
                    v[i] = new RecordView();
                }
                views = v;
                stores = new BytesStore<?, ?>[n];
            }
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public TensorView get(int i) {
            if (i < 0 || i >= size) {
                throw new IndexOutOfBoundsException("tensor " + i + " of batch size " + size);
            }
            return views[i];
        }
    }
}
