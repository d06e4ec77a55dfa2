package io.inferencefleet.paddle.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * A named FP32 tensor with static dims, as stored in a params file. Holds its array without
 * copying: parameters of a large model are hundreds of megabytes.
 */
public record FloatTensor(String name, long[] dims, float[] data) {

    public FloatTensor {
        Objects.requireNonNull(name, "name");
        dims = dims.clone();
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": dims must be static, got " + Arrays.toString(dims));
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != data.length) {
            throw new IllegalArgumentException(name + ": dims " + Arrays.toString(dims) + " hold " + count
                    + " elements but data has " + data.length);
        }
    }

    /** A copy of the dims. */
    @Override
    public long[] dims() {
        return dims.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && name.equals(t.name) && Arrays.equals(dims, t.dims)
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(dims), Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return "FloatTensor[" + name + Arrays.toString(dims) + "]";
    }
}
