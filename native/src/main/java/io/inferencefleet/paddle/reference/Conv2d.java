package io.inferencefleet.paddle.reference;

/**
 * NCHW convolution without bias, direct (no im2col). Loops run over output rows with the
 * valid column range computed up front, so the innermost loop is a branch-free axpy the JIT
 * vectorises.
 */
final class Conv2d {
    private Conv2d() {
    }

    /**
     * @param paddings {@code [top, bottom, left, right]}
     */
    static DoubleTensor apply(DoubleTensor x, DoubleTensor w, int[] strides, int[] paddings, int[] dilations,
                              int groups) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int oc = w.dim(0), icg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
        if (c != icg * groups || oc % groups != 0) {
            throw new IllegalArgumentException("conv2d: input channels " + c + ", filter " + oc + "x" + icg
                    + ", groups " + groups + " do not fit");
        }
        int sh = strides[0], sw = strides[1], dh = dilations[0], dw = dilations[1];
        int pt = paddings[0], pb = paddings[1], pl = paddings[2], pr = paddings[3];
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
        int ow = (wd + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("conv2d: output would be " + oh + "x" + ow);
        }
        DoubleTensor out = DoubleTensor.zeros(n, oc, oh, ow);
        double[] in = x.data(), wt = w.data(), o = out.data();
        int ocg = oc / groups;
        for (int b = 0; b < n; b++) {
            for (int m = 0; m < oc; m++) {
                int g = m / ocg;
                int outPlane = (b * oc + m) * oh * ow;
                for (int ci = 0; ci < icg; ci++) {
                    int inPlane = (b * c + g * icg + ci) * h * wd;
                    for (int r = 0; r < kh; r++) {
                        for (int s = 0; s < kw; s++) {
                            double weight = wt[((m * icg + ci) * kh + r) * kw + s];
                            // Output columns whose input column iw = ow*sw - pl + s*dw lies in [0, wd).
                            int colOffset = s * dw - pl;
                            int owFrom = ceilDiv(-colOffset, sw);
                            int owTo = Math.min(ow, floorDiv(wd - 1 - colOffset, sw) + 1);
                            if (owFrom < 0) {
                                owFrom = 0;
                            }
                            for (int y = 0; y < oh; y++) {
                                int iy = y * sh - pt + r * dh;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                int outRow = outPlane + y * ow;
                                int inRow = inPlane + iy * wd + colOffset;
                                if (sw == 1) {
                                    for (int xo = owFrom; xo < owTo; xo++) {
                                        o[outRow + xo] += weight * in[inRow + xo];
                                    }
                                } else {
                                    for (int xo = owFrom; xo < owTo; xo++) {
                                        o[outRow + xo] += weight * in[inRow + xo * sw];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    private static int floorDiv(int a, int b) {
        return Math.floorDiv(a, b);
    }
}
