package io.inferencefleet.paddle.reference;

/** NCHW max and average pooling with explicit padding (floor mode). */
final class Pool2d {
    private Pool2d() {
    }

    /**
     * @param paddings  {@code [top, bottom, left, right]}
     * @param exclusive for average pooling, divide by the number of in-bounds elements rather than
     *                  the kernel area (Paddle's default)
     */
    static DoubleTensor apply(DoubleTensor x, boolean max, int[] ksize, int[] strides, int[] paddings,
                              boolean exclusive) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int kh = ksize[0], kw = ksize[1], sh = strides[0], sw = strides[1];
        int pt = paddings[0], pb = paddings[1], pl = paddings[2], pr = paddings[3];
        int oh = (h + pt + pb - kh) / sh + 1;
        int ow = (w + pl + pr - kw) / sw + 1;
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("pool2d: output would be " + oh + "x" + ow);
        }
        DoubleTensor out = DoubleTensor.zeros(n, c, oh, ow);
        double[] in = x.data(), o = out.data();
        for (int plane = 0; plane < n * c; plane++) {
            int inBase = plane * h * w;
            int outBase = plane * oh * ow;
            for (int y = 0; y < oh; y++) {
                int y0 = y * sh - pt, y1 = Math.min(y0 + kh, h);
                y0 = Math.max(y0, 0);
                for (int xo = 0; xo < ow; xo++) {
                    int x0 = xo * sw - pl, x1 = Math.min(x0 + kw, w);
                    x0 = Math.max(x0, 0);
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) {
                            double v = in[inBase + iy * w + ix];
                            acc = max ? Math.max(acc, v) : acc + v;
                        }
                    }
                    if (!max) {
                        acc /= exclusive ? (double) (y1 - y0) * (x1 - x0) : (double) kh * kw;
                    }
                    o[outBase + y * ow + xo] = acc;
                }
            }
        }
        return out;
    }
}
