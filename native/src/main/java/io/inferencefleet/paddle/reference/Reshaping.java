package io.inferencefleet.paddle.reference;

import java.util.Arrays;

/** Ops that change shape or normalise along an axis: flatten, matmul, softmax. */
final class Reshaping {
    private Reshaping() {
    }

    /** Merges dims {@code start..stop} (inclusive; negative counts from the end) into one. */
    static DoubleTensor flatten(DoubleTensor x, int startAxis, int stopAxis) {
        int r = x.rank();
        int start = startAxis < 0 ? startAxis + r : startAxis;
        int stop = stopAxis < 0 ? stopAxis + r : stopAxis;
        if (start < 0 || stop >= r || start > stop) {
            throw new IllegalArgumentException("flatten: axes " + startAxis + ".." + stopAxis + " invalid for rank " + r);
        }
        int[] shape = new int[r - (stop - start)];
        int merged = 1;
        for (int d = start; d <= stop; d++) {
            merged *= x.dim(d);
        }
        for (int d = 0, o = 0; d < r; d++) {
            if (d < start || d > stop) {
                shape[o++] = x.dim(d);
            } else if (d == start) {
                shape[o++] = merged;
            }
        }
        return new DoubleTensor(shape, x.data());
    }

    /** 2-D matrix product with optional transposes: {@code op(x) [m,k] x op(y) [k,n]}. */
    static DoubleTensor matmul(DoubleTensor x, DoubleTensor y, boolean transX, boolean transY) {
        if (x.rank() != 2 || y.rank() != 2) {
            throw new IllegalArgumentException("matmul_v2: only 2-D operands are supported, got "
                    + Arrays.toString(x.shape()) + " x " + Arrays.toString(y.shape()));
        }
        int m = transX ? x.dim(1) : x.dim(0), k = transX ? x.dim(0) : x.dim(1);
        int ky = transY ? y.dim(1) : y.dim(0), n = transY ? y.dim(0) : y.dim(1);
        if (k != ky) {
            throw new IllegalArgumentException("matmul_v2: inner dims differ: " + Arrays.toString(x.shape())
                    + (transX ? "^T" : "") + " x " + Arrays.toString(y.shape()) + (transY ? "^T" : ""));
        }
        double[] a = x.data(), b = y.data(), o = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                double av = transX ? a[p * m + i] : a[i * k + p];
                int row = i * n;
                for (int j = 0; j < n; j++) {
                    o[row + j] += av * (transY ? b[j * k + p] : b[p * n + j]);
                }
            }
        }
        return new DoubleTensor(new int[] {m, n}, o);
    }

    /** Softmax along {@code axis} (negative counts from the end), max-subtracted for stability. */
    static DoubleTensor softmax(DoubleTensor x, int axis) {
        int r = x.rank();
        int a = axis < 0 ? axis + r : axis;
        int len = x.dim(a);
        int inner = 1;
        for (int d = a + 1; d < r; d++) {
            inner *= x.dim(d);
        }
        int outer = x.data().length / (len * inner);
        double[] in = x.data(), o = new double[in.length];
        for (int out = 0; out < outer; out++) {
            for (int in0 = 0; in0 < inner; in0++) {
                int base = out * len * inner + in0;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < len; i++) {
                    max = Math.max(max, in[base + i * inner]);
                }
                double sum = 0;
                for (int i = 0; i < len; i++) {
                    double e = Math.exp(in[base + i * inner] - max);
                    o[base + i * inner] = e;
                    sum += e;
                }
                for (int i = 0; i < len; i++) {
                    o[base + i * inner] /= sum;
                }
            }
        }
        return new DoubleTensor(x.shape().clone(), o);
    }
}
