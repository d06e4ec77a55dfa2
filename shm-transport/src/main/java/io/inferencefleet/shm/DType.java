package io.inferencefleet.shm;

/** Element type of a tensor; codes match Paddle's {@code paddle_infer::DataType} order. */
public enum DType {
    FLOAT32(4), INT64(8), INT32(4), UINT8(1), INT8(1), FLOAT16(2);

    private static final DType[] VALUES = values();
    private final int elementBytes;

    DType(int elementBytes) {
        this.elementBytes = elementBytes;
    }

    public int elementBytes() {
        return elementBytes;
    }

    /** Code stored in a record: the ordinal. */
    public int code() {
        return ordinal();
    }

    public static DType fromCode(int code) {
        if (code < 0 || code >= VALUES.length) {
            throw new IllegalArgumentException("Invalid value " + code + " for dtype: unknown code");
        }
        return VALUES[code];
    }
}
