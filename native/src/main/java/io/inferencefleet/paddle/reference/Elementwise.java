package io.inferencefleet.paddle.reference;

import java.util.Arrays;

/** Element-wise ops: ReLU, batch-norm inference, and addition with Paddle's axis broadcasting. */
final class Elementwise {
    private Elementwise() {
    }

    static DoubleTensor relu(DoubleTensor x) {
        double[] o = x.data().clone();
        for (int i = 0; i < o.length; i++) {
            o[i] = Math.max(o[i], 0);
        }
        return new DoubleTensor(x.shape().clone(), o);
    }

    /** {@code y = scale * (x - mean) / sqrt(variance + epsilon) + bias}, per channel (axis 1). */
    static DoubleTensor batchNorm(DoubleTensor x, DoubleTensor scale, DoubleTensor bias, DoubleTensor mean,
                                  DoubleTensor variance, double epsilon) {
        int n = x.dim(0), c = x.dim(1);
        int inner = (int) (DoubleTensor.elementCount(x.shape()) / ((long) n * c));
        double[] in = x.data(), o = new double[in.length];
        for (int ch = 0; ch < c; ch++) {
            double a = scale.data()[ch] / Math.sqrt(variance.data()[ch] + epsilon);
            double b = bias.data()[ch] - a * mean.data()[ch];
            for (int img = 0; img < n; img++) {
                int base = (img * c + ch) * inner;
                for (int i = base; i < base + inner; i++) {
                    o[i] = a * in[i] + b;
                }
            }
        }
        return new DoubleTensor(x.shape().clone(), o);
    }

    /**
     * Paddle's {@code elementwise_add}: {@code y}'s dims line up with {@code x}'s starting at
     * {@code axis} ({@code -1} means "trailing dims", i.e. {@code rank(x) - rank(y)}); each of
     * them must equal x's or be 1. The result has x's shape.
     */
    static DoubleTensor add(DoubleTensor x, DoubleTensor y, int axis) {
        int rx = x.rank(), ry = y.rank();
        int start = axis == -1 ? rx - ry : axis;
        if (ry > rx || start < 0 || start + ry > rx) {
            throw new IllegalArgumentException("elementwise_add: cannot align " + Arrays.toString(y.shape())
                    + " with " + Arrays.toString(x.shape()) + " at axis " + axis);
        }
        // y's strides expanded to x's rank; broadcast dims get stride 0.
        int[] yStrides = new int[rx];
        int stride = 1;
        for (int d = ry - 1; d >= 0; d--) {
            int xd = x.dim(start + d), yd = y.dim(d);
            if (yd != xd && yd != 1) {
                throw new IllegalArgumentException("elementwise_add: dim " + d + " of " + Arrays.toString(y.shape())
                        + " does not broadcast to " + Arrays.toString(x.shape()) + " at axis " + axis);
            }
            yStrides[start + d] = yd == 1 ? 0 : stride;
            stride *= yd;
        }
        double[] xs = x.data(), ys = y.data(), o = new double[xs.length];
        int[] index = new int[rx];
        int yi = 0;
        for (int i = 0; i < xs.length; i++) {
            o[i] = xs[i] + ys[yi];
            // Odometer increment of the x index, keeping y's flat index in step.
            for (int d = rx - 1; d >= 0; d--) {
                index[d]++;
                yi += yStrides[d];
                if (index[d] < x.dim(d)) {
                    break;
                }
                yi -= yStrides[d] * index[d];
                index[d] = 0;
            }
        }
        return new DoubleTensor(x.shape().clone(), o);
    }
}
