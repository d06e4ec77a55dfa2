package io.inferencefleet.shm.internal;

import io.inferencefleet.shm.TensorQueueLimits;

/**
 * Layout of one tensor record: the body of one Chronicle document. Offsets are from the body's
 * first byte (address {@code A}); Chronicle's 4-byte document header precedes it.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      magic/version 'FTN1'                     |  0
 *  |          tensorOffset (A + tensorOffset is 64-aligned)        |  4
 *  |                          tensorBytes                          |  8
 *  |                          dtype code                           | 12
 *  |                     sourceOffset (64 bits)                    | 16
 *  |                        sourcePartition                        | 24
 *  |                             rank                              | 28
 *  |                    enqueueTimeNs (64 bits)                    | 32
 *  |                       requestKeyLength                        | 40
 *  |                           reserved                            | 44
 *  |                    dims[8] (8 x 32 bits)                      | 48
 *  |            requestKey (maxRequestKeyBytes, UTF-8)            ...  80
 *  |            padding to the next 64-byte address              ...
 *  |                 tensor (tensorBytes, 64-aligned)             ...  tensorOffset
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Alignment is computed from the file position: mappings start on page boundaries, so an
 * address and its file position agree modulo 64 in every process.
 */
public final class RecordLayout {
    private RecordLayout() {}

    public static final int MAGIC = 0x46544E31;  // "FTN1"
    /** An aborted claim's document: this many bytes, magic 0, skipped by readers. */
    public static final int TOMBSTONE_BYTES = 8;
    public static final int MAGIC_OFFSET = 0;
    public static final int TENSOR_OFFSET_OFFSET = 4;
    public static final int TENSOR_BYTES_OFFSET = 8;
    public static final int DTYPE_OFFSET = 12;
    public static final int SOURCE_OFFSET_OFFSET = 16;
    public static final int SOURCE_PARTITION_OFFSET = 24;
    public static final int RANK_OFFSET = 28;
    public static final int ENQUEUE_TIME_OFFSET = 32;
    public static final int KEY_LENGTH_OFFSET = 40;
    public static final int DIMS_OFFSET = 48;
    public static final int KEY_OFFSET = DIMS_OFFSET + 4 * TensorQueueLimits.MAX_RANK;
    /** Chronicle's per-document header, counted in the footprint. */
    public static final int DOCUMENT_HEADER_BYTES = 4;

    /** Offset of the tensor from the body start at file position {@code bodyPosition}. */
    public static int tensorOffset(long bodyPosition, int maxKeyBytes) {
        long unaligned = bodyPosition + KEY_OFFSET + maxKeyBytes;
        long aligned = (unaligned + TensorQueueLimits.TENSOR_ALIGNMENT - 1) & -(long) TensorQueueLimits.TENSOR_ALIGNMENT;
        return (int) (aligned - bodyPosition);
    }

    /** Bytes a record at {@code bodyPosition} occupies in the file, header included. */
    public static long recordBytes(int tensorOffset, int tensorBytes) {
        return DOCUMENT_HEADER_BYTES + (long) tensorOffset + tensorBytes;
    }

    /** Upper bound of {@link #recordBytes} for a tensor of {@code tensorBytes}. */
    public static long maxRecordBytes(int tensorBytes, int maxKeyBytes) {
        return DOCUMENT_HEADER_BYTES + KEY_OFFSET + maxKeyBytes + TensorQueueLimits.TENSOR_ALIGNMENT - 1L + tensorBytes;
    }
}
