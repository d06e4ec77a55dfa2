package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;

/** Byte sizes of Paddle's tensor element types, as laid out in a params file. */
final class DataTypes {
    private DataTypes() {
    }

    /** Bytes per element, or -1 for types that are not plain tensor elements. */
    static int elementBytes(VarType.Type type) {
        return switch (type) {
            case BOOL, UINT8, INT8 -> 1;
            case INT16, FP16, BF16 -> 2;
            case INT32, FP32 -> 4;
            case INT64, FP64, COMPLEX64 -> 8;
            case COMPLEX128 -> 16;
            default -> -1;
        };
    }
}
