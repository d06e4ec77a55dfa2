package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;

import java.util.Arrays;
import java.util.Objects;

/**
 * Name, shape and element type of a variable as the program declares it. A dimension of
 * {@code -1} is dynamic (usually the batch).
 */
public final class TensorSpec {
    private final String name;
    private final long[] dims;
    private final VarType.Type dataType;

    public TensorSpec(String name, long[] dims, VarType.Type dataType) {
        this.name = Objects.requireNonNull(name, "name");
        this.dims = dims.clone();
        this.dataType = Objects.requireNonNull(dataType, "dataType");
    }

    public String name() {
        return name;
    }

    /** A copy of the declared dimensions; {@code -1} marks a dynamic dimension. */
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int axis) {
        return dims[axis];
    }

    public VarType.Type dataType() {
        return dataType;
    }

    /** True when every dimension is known, so {@link #elementCount()} is defined. */
    public boolean isStatic() {
        return Arrays.stream(dims).allMatch(d -> d >= 0);
    }

    /**
     * Number of elements.
     *
     * @throws IllegalStateException if a dimension is dynamic
     */
    public long elementCount() {
        if (!isStatic()) {
            throw new IllegalStateException(name + " has dynamic dims " + Arrays.toString(dims));
        }
        long count = 1;
        for (long d : dims) {
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec other && name.equals(other.name) && Arrays.equals(dims, other.dims)
                && dataType == other.dataType;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(dims), dataType);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(dims) + ":" + dataType;
    }
}
