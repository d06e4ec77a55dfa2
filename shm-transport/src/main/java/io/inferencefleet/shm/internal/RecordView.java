package io.inferencefleet.shm.internal;

import io.inferencefleet.shm.DType;
import io.inferencefleet.shm.TensorView;
import java.nio.charset.StandardCharsets;
import org.agrona.concurrent.UnsafeBuffer;

/** Flyweight over one record in place. */
final class RecordView implements TensorView {
    private final UnsafeBuffer header = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer tensor = new UnsafeBuffer(0, 0);
    private long index;
    private long recordBytes;

    /** Wraps the record whose body starts at {@code bodyAddress}; false if it is not a tensor record. */
    boolean wrap(long bodyAddress, long bodyLength, long index) {
        if (bodyLength < RecordLayout.KEY_OFFSET) {
            return false;
        }
        header.wrap(bodyAddress, RecordLayout.KEY_OFFSET);
        if (header.getInt(RecordLayout.MAGIC_OFFSET) != RecordLayout.MAGIC) {
            return false;
        }
        int tensorOffset = header.getInt(RecordLayout.TENSOR_OFFSET_OFFSET);
        int tensorBytes = header.getInt(RecordLayout.TENSOR_BYTES_OFFSET);
        if ((long) tensorOffset + tensorBytes != bodyLength) {
            throw new IllegalStateException("corrupt record at index " + Long.toHexString(index) + ": tensorOffset=" + tensorOffset
                    + " tensorBytes=" + tensorBytes + " bodyLength=" + bodyLength);
        }
        header.wrap(bodyAddress, tensorOffset);
        tensor.wrap(bodyAddress + tensorOffset, tensorBytes);
        this.index = index;
        this.recordBytes = RecordLayout.recordBytes(tensorOffset, tensorBytes);
        return true;
    }

    long recordBytes() {
        return recordBytes;
    }

    @Override
    public long address() {
        return tensor.addressOffset();
    }

    @Override
    public int lengthBytes() {
        return tensor.capacity();
    }

    @Override
    public UnsafeBuffer buffer() {
        return tensor;
    }

    @Override
    public long index() {
        return index;
    }

    @Override
    public String requestKey() {
        int length = requestKeyLength();
        byte[] utf8 = new byte[length];
        header.getBytes(RecordLayout.KEY_OFFSET, utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    @Override
    public int requestKeyLength() {
        return header.getInt(RecordLayout.KEY_LENGTH_OFFSET);
    }

    @Override
    public int sourcePartition() {
        return header.getInt(RecordLayout.SOURCE_PARTITION_OFFSET);
    }

    @Override
    public long sourceOffset() {
        return header.getLong(RecordLayout.SOURCE_OFFSET_OFFSET);
    }

    @Override
    public int rank() {
        return header.getInt(RecordLayout.RANK_OFFSET);
    }

    @Override
    public int dim(int i) {
        if (i < 0 || i >= rank()) {
            throw new IndexOutOfBoundsException("dim " + i + " of rank " + rank());
        }
        return header.getInt(RecordLayout.DIMS_OFFSET + 4 * i);
    }

    @Override
    public int[] shape() {
        int[] dims = new int[rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = dim(i);
        }
        return dims;
    }

    @Override
    public DType dtype() {
        return DType.fromCode(header.getInt(RecordLayout.DTYPE_OFFSET));
    }

    @Override
    public long enqueueTimeNs() {
        return header.getLong(RecordLayout.ENQUEUE_TIME_OFFSET);
    }
}
