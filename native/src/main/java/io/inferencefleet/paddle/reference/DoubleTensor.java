package io.inferencefleet.paddle.reference;

import java.util.Arrays;
import java.util.Objects;

/** A dense row-major float64 tensor: the reference interpreter's values. Holds its arrays as given. */
public record DoubleTensor(int[] shape, double[] data) {

    public DoubleTensor {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        if (elementCount(shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + elementCount(shape)
                    + " elements, data has " + data.length);
        }
    }

    /** A zero-filled tensor of the given shape. */
    public static DoubleTensor zeros(int... shape) {
        return new DoubleTensor(shape, new double[Math.toIntExact(elementCount(shape))]);
    }

    public static DoubleTensor of(float[] values, int... shape) {
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
        }
        return new DoubleTensor(shape, d);
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DoubleTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "DoubleTensor" + Arrays.toString(shape);
    }
}
