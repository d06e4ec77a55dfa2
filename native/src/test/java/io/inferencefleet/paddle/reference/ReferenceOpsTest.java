package io.inferencefleet.paddle.reference;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The reference kernels on cases small enough to compute by hand. */
class ReferenceOpsTest {
    private static final double EPS = 1e-12;

    /** 1x1x3x3 image holding 1..9 row by row. */
    private static DoubleTensor oneToNine() {
        return new DoubleTensor(new int[] {1, 1, 3, 3}, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    }

    @Test
    void convValidPadding() {
        DoubleTensor w = new DoubleTensor(new int[] {1, 1, 2, 2}, new double[] {1, 1, 1, 1});
        DoubleTensor out = Conv2d.apply(oneToNine(), w, new int[] {1, 1}, new int[4], new int[] {1, 1}, 1);
        assertArrayEquals(new int[] {1, 1, 2, 2}, out.shape());
        assertArrayEquals(new double[] {12, 16, 24, 28}, out.data(), EPS);
    }

    @Test
    void convWithPaddingAndStride() {
        DoubleTensor w = new DoubleTensor(new int[] {1, 1, 3, 3}, new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1});
        DoubleTensor out = Conv2d.apply(oneToNine(), w, new int[] {2, 2}, new int[] {1, 1, 1, 1}, new int[] {1, 1}, 1);
        // Each output sees a 2x2 corner of the image, the rest is padding.
        assertArrayEquals(new int[] {1, 1, 2, 2}, out.shape());
        assertArrayEquals(new double[] {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9}, out.data(), EPS);
    }

    @Test
    void convWithAsymmetricWeightsKeepsOrientation() {
        // Picks the right neighbour: out(y,x) = in(y, x+1) with padding 1 on each side.
        DoubleTensor w = new DoubleTensor(new int[] {1, 1, 3, 3}, new double[] {0, 0, 0, 0, 0, 1, 0, 0, 0});
        DoubleTensor out = Conv2d.apply(oneToNine(), w, new int[] {1, 1}, new int[] {1, 1, 1, 1}, new int[] {1, 1}, 1);
        assertArrayEquals(new double[] {2, 3, 0, 5, 6, 0, 8, 9, 0}, out.data(), EPS);
    }

    @Test
    void convWithDilation() {
        DoubleTensor x = new DoubleTensor(new int[] {1, 1, 3, 3}, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        DoubleTensor w = new DoubleTensor(new int[] {1, 1, 2, 2}, new double[] {1, 10, 100, 1000});
        DoubleTensor out = Conv2d.apply(x, w, new int[] {1, 1}, new int[4], new int[] {2, 2}, 1);
        assertArrayEquals(new int[] {1, 1, 1, 1}, out.shape());
        assertEquals(1 + 10 * 3 + 100 * 7 + 1000 * 9, out.data()[0], EPS);
    }

    @Test
    void convWithGroupsAndBatch() {
        // Two images, two channels, two groups: output channel g only sees input channel g.
        DoubleTensor x = new DoubleTensor(new int[] {2, 2, 1, 2}, new double[] {1, 2, 3, 4, 5, 6, 7, 8});
        DoubleTensor w = new DoubleTensor(new int[] {2, 1, 1, 1}, new double[] {10, 100});
        DoubleTensor out = Conv2d.apply(x, w, new int[] {1, 1}, new int[4], new int[] {1, 1}, 2);
        assertArrayEquals(new double[] {10, 20, 300, 400, 50, 60, 700, 800}, out.data(), EPS);
    }

    @Test
    void convSumsOverInputChannels() {
        DoubleTensor x = new DoubleTensor(new int[] {1, 2, 1, 1}, new double[] {3, 5});
        DoubleTensor w = new DoubleTensor(new int[] {2, 2, 1, 1}, new double[] {1, 2, -1, 1});
        DoubleTensor out = Conv2d.apply(x, w, new int[] {1, 1}, new int[4], new int[] {1, 1}, 1);
        assertArrayEquals(new double[] {3 + 10, -3 + 5}, out.data(), EPS);
    }

    @Test
    void convMatchesNaiveDefinitionOnRandomShapes() {
        SplittableRandom random = new SplittableRandom(9);
        for (int trial = 0; trial < 200; trial++) {
            int groups = 1 + random.nextInt(2), n = 1 + random.nextInt(2);
            int c = groups * (1 + random.nextInt(3)), oc = groups * (1 + random.nextInt(3));
            int h = 1 + random.nextInt(7), w = 1 + random.nextInt(7);
            int kh = 1 + random.nextInt(3), kw = 1 + random.nextInt(3);
            int[] strides = {1 + random.nextInt(3), 1 + random.nextInt(3)};
            int[] dil = {1 + random.nextInt(2), 1 + random.nextInt(2)};
            int[] pads = {random.nextInt(3), random.nextInt(3), random.nextInt(3), random.nextInt(3)};
            if (h + pads[0] + pads[1] < dil[0] * (kh - 1) + 1 || w + pads[2] + pads[3] < dil[1] * (kw - 1) + 1) {
                continue;
            }
            DoubleTensor x = random(random, n, c, h, w);
            DoubleTensor k = random(random, oc, c / groups, kh, kw);
            DoubleTensor fast = Conv2d.apply(x, k, strides, pads, dil, groups);
            DoubleTensor naive = naiveConv(x, k, strides, pads, dil, groups);
            assertArrayEquals(naive.shape(), fast.shape(), "trial " + trial);
            assertArrayEquals(naive.data(), fast.data(), 1e-12, "trial " + trial);
        }
    }

    /** The textbook definition, bounds-checked per tap. */
    private static DoubleTensor naiveConv(DoubleTensor x, DoubleTensor k, int[] s, int[] p, int[] d, int groups) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int oc = k.dim(0), icg = k.dim(1), kh = k.dim(2), kw = k.dim(3);
        int oh = (h + p[0] + p[1] - d[0] * (kh - 1) - 1) / s[0] + 1;
        int ow = (w + p[2] + p[3] - d[1] * (kw - 1) - 1) / s[1] + 1;
        DoubleTensor out = DoubleTensor.zeros(n, oc, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int m = 0; m < oc; m++) {
                int g = m / (oc / groups);
                for (int y = 0; y < oh; y++) {
                    for (int xo = 0; xo < ow; xo++) {
                        double acc = 0;
                        for (int ci = 0; ci < icg; ci++) {
                            for (int r = 0; r < kh; r++) {
                                for (int t = 0; t < kw; t++) {
                                    int iy = y * s[0] - p[0] + r * d[0], ix = xo * s[1] - p[2] + t * d[1];
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        acc += x.data()[((b * c + g * icg + ci) * h + iy) * w + ix]
                                                * k.data()[((m * icg + ci) * kh + r) * kw + t];
                                    }
                                }
                            }
                        }
                        out.data()[((b * oc + m) * oh + y) * ow + xo] = acc;
                    }
                }
            }
        }
        return out;
    }

    private static DoubleTensor random(SplittableRandom random, int... shape) {
        DoubleTensor t = DoubleTensor.zeros(shape);
        for (int i = 0; i < t.data().length; i++) {
            t.data()[i] = random.nextDouble(-1, 1);
        }
        return t;
    }

    @Test
    void maxPoolWithStrideAndPadding() {
        DoubleTensor out = Pool2d.apply(oneToNine(), true, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1, 1, 1},
                true);
        assertArrayEquals(new int[] {1, 1, 2, 2}, out.shape());
        assertArrayEquals(new double[] {5, 6, 8, 9}, out.data(), EPS);
    }

    @Test
    void maxPoolOfNegativesIgnoresPadding() {
        DoubleTensor x = new DoubleTensor(new int[] {1, 1, 1, 2}, new double[] {-3, -4});
        DoubleTensor out = Pool2d.apply(x, true, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1, 1, 1}, true);
        assertArrayEquals(new double[] {-3, -3}, out.data(), EPS);
    }

    @Test
    void avgPoolExclusiveAndInclusiveDivisors() {
        int[] k = {3, 3}, s = {1, 1}, p = {1, 1, 1, 1};
        DoubleTensor exclusive = Pool2d.apply(oneToNine(), false, k, s, p, true);
        DoubleTensor inclusive = Pool2d.apply(oneToNine(), false, k, s, p, false);
        assertEquals((1 + 2 + 4 + 5) / 4.0, exclusive.data()[0], EPS);      // corner: 4 real elements
        assertEquals((1 + 2 + 4 + 5) / 9.0, inclusive.data()[0], EPS);
        assertEquals(5, exclusive.data()[4], EPS);                          // centre: full window
    }

    @Test
    void softmaxSumsToOneAndMatchesHandValues() {
        DoubleTensor x = new DoubleTensor(new int[] {2, 3}, new double[] {0, Math.log(2), Math.log(5), 1000, 1000, 1000});
        DoubleTensor out = Reshaping.softmax(x, -1);
        assertArrayEquals(new double[] {1 / 8.0, 2 / 8.0, 5 / 8.0, 1 / 3.0, 1 / 3.0, 1 / 3.0}, out.data(), 1e-12);
        assertEquals(1.0, Arrays.stream(out.data(), 0, 3).sum(), 1e-12);
    }

    @Test
    void softmaxAlongInnerAxis() {
        DoubleTensor x = new DoubleTensor(new int[] {2, 2}, new double[] {0, 5, Math.log(3), 5});
        DoubleTensor out = Reshaping.softmax(x, 0);
        assertArrayEquals(new double[] {0.25, 0.5, 0.75, 0.5}, out.data(), 1e-12);
    }

    @Test
    void elementwiseAddBroadcastsTrailingDims() {
        DoubleTensor x = new DoubleTensor(new int[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        DoubleTensor y = new DoubleTensor(new int[] {3}, new double[] {10, 20, 30});
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, Elementwise.add(x, y, -1).data(), EPS);
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, Elementwise.add(x, y, 1).data(), EPS);
    }

    @Test
    void elementwiseAddBroadcastsPerChannelAtAxisOne() {
        DoubleTensor x = DoubleTensor.zeros(2, 2, 1, 2);
        DoubleTensor y = new DoubleTensor(new int[] {2}, new double[] {1, 2});
        assertArrayEquals(new double[] {1, 1, 2, 2, 1, 1, 2, 2}, Elementwise.add(x, y, 1).data(), EPS);
        DoubleTensor ones = new DoubleTensor(new int[] {2, 1, 1}, new double[] {1, 2});
        assertArrayEquals(new double[] {1, 1, 2, 2, 1, 1, 2, 2}, Elementwise.add(x, ones, 1).data(), EPS);
    }

    @Test
    void elementwiseAddRejectsMismatch() {
        DoubleTensor x = DoubleTensor.zeros(2, 3);
        assertThrows(IllegalArgumentException.class, () -> Elementwise.add(x, DoubleTensor.zeros(2), -1));
    }

    @Test
    void batchNormNormalisesPerChannel() {
        DoubleTensor x = new DoubleTensor(new int[] {1, 2, 1, 2}, new double[] {1, 3, 10, 20});
        DoubleTensor out = Elementwise.batchNorm(x, new DoubleTensor(new int[] {2}, new double[] {2, 1}),
                new DoubleTensor(new int[] {2}, new double[] {0.5, 0}), new DoubleTensor(new int[] {2}, new double[] {2, 0}),
                new DoubleTensor(new int[] {2}, new double[] {4, 1}), 0);
        assertArrayEquals(new double[] {2 * (1 - 2) / 2.0 + 0.5, 2 * (3 - 2) / 2.0 + 0.5, 10, 20}, out.data(), EPS);
    }

    @Test
    void matmulWithTransposes() {
        DoubleTensor a = new DoubleTensor(new int[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        DoubleTensor b = new DoubleTensor(new int[] {3, 2}, new double[] {1, 0, 0, 1, 1, 1});
        assertArrayEquals(new double[] {4, 5, 10, 11}, Reshaping.matmul(a, b, false, false).data(), EPS);
        DoubleTensor bt = new DoubleTensor(new int[] {2, 3}, new double[] {1, 0, 1, 0, 1, 1});
        assertArrayEquals(new double[] {4, 5, 10, 11}, Reshaping.matmul(a, bt, false, true).data(), EPS);
        DoubleTensor at = new DoubleTensor(new int[] {3, 2}, new double[] {1, 4, 2, 5, 3, 6});
        assertArrayEquals(new double[] {4, 5, 10, 11}, Reshaping.matmul(at, b, true, false).data(), EPS);
    }

    @Test
    void flattenMergesAxesRange() {
        DoubleTensor x = DoubleTensor.zeros(2, 3, 4, 5);
        assertArrayEquals(new int[] {2, 60}, Reshaping.flatten(x, 1, 3).shape());
        assertArrayEquals(new int[] {2, 12, 5}, Reshaping.flatten(x, 1, 2).shape());
        assertArrayEquals(new int[] {120}, Reshaping.flatten(x, 0, -1).shape());
    }

    @Test
    void reluClampsNegatives() {
        DoubleTensor x = new DoubleTensor(new int[] {3}, new double[] {-1, 0, 2});
        assertArrayEquals(new double[] {0, 0, 2}, Elementwise.relu(x).data(), EPS);
    }
}
