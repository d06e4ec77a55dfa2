package io.inferencefleet.paddle;

import java.util.Arrays;

/**
 * Name and declared shape of a predictor input or output. A dimension of -1 is dynamic (usually the
 * batch); an empty shape means the model does not declare one.
 */
public final class TensorSpec {
    private final String name;
    private final long[] shape;

    public TensorSpec(String name, long[] shape) {
        this.name = name;
        this.shape = shape.clone();
    }

    public String name() {
        return name;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Declared size of dimension {@code axis}, or -1 when it is dynamic. */
    public long dim(int axis) {
        return shape[axis];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec && name.equals(((TensorSpec) o).name)
                && Arrays.equals(shape, ((TensorSpec) o).shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
