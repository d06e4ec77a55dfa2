package io.inferencefleet.paddle.model;

/**
 * The combined {@code .pdiparams} layout, described once. The file is the concatenation, for every
 * persistable non-feed/fetch variable sorted by name, of:
 *
 * <pre>
 *  offset  size  field
 *  0       4     u32  LoDTensor version, 0
 *  4       8     u64  number of LoD levels L (0 for parameters)
 *  12      ...   L x (u64 byte length n, n bytes of offsets)
 *  +0      4     u32  Tensor version, 0
 *  +4      4     i32  TensorDesc length d
 *  +8      d     TensorDesc protobuf (data_type, dims)
 *  +8+d    ...   raw little-endian elements, numel x element size
 * </pre>
 *
 * Nothing follows the last tensor: Paddle rejects trailing bytes.
 */
final class ParamsLayout {
    static final int LOD_TENSOR_VERSION = 0;
    static final int TENSOR_VERSION = 0;
    /** A TensorDesc is a type and a handful of dims; a larger length means a corrupt file. */
    static final int MAX_TENSOR_DESC_BYTES = 64 * 1024;

    private ParamsLayout() {
    }
}
