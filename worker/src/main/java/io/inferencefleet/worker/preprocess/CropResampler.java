package io.inferencefleet.worker.preprocess;

import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Rect;

/**
 * Computes one square window of OpenCV's {@code Imgproc.resize(src, dst, new Size(dstWidth, dstHeight), 0, 0,
 * INTER_LINEAR)} without computing the rest of {@code dst}, with OpenCV 4.9's own arithmetic, so that the window
 * equals {@code dst.submat(window)} bit for bit while the cost depends on the window, not on {@code dst}.
 *
 * <p>Why not let OpenCV resize a region of interest: the weights OpenCV uses depend on each destination pixel's
 * <em>absolute</em> coordinate ({@code (float) ((dx + 0.5) * scale - 0.5)}, rounded to float, then to 11-bit fixed
 * point for 8-bit images), so resizing a sub-image samples a slightly different grid; {@code warpAffine} and
 * {@code remap} quantise positions to 1/32 pixel. Either changes pixels by one grey level, about 0.017 in the
 * normalised tensor. What is reproduced here, and why it is exact:
 * <ul>
 *   <li><b>Equal sizes</b>: OpenCV copies; so does this.</li>
 *   <li><b>Exactly 2x smaller on both axes</b>: OpenCV switches INTER_LINEAR to its fast area path,
 *       {@code (a + b + c + d + 2) >> 2} over each 2x2 block (8 and 16 bit).</li>
 *   <li><b>8 bit, otherwise</b> (OpenCV's generic fixed-point path; IPP is not used for 8-bit linear resize): per
 *       column, offset {@code sx} and weights {@code rint((1 - fx) * 2048)}, {@code rint(fx * 2048)}; a horizontal
 *       pass in exact integers; a vertical pass {@code ((b0 * (h0 >> 4)) >> 16) + ((b1 * (h1 >> 4)) >> 16) + 2 >> 2},
 *       which OpenCV's SIMD and scalar code both compute. Columns left of the image use the first pixel, columns at
 *       or right of the last pixel use the last pixel; rows are clamped.</li>
 *   <li><b>16 bit, otherwise</b>: the same offsets with float weights, {@code h = s0 * a0 + s1 * a1} and
 *       {@code rint(h0 * b0 + h1 * b1)} in float, as OpenCV's generic path computes them. Note that the
 *       org.openpnp build of OpenCV hands 16-bit linear resizes to Intel IPP, whose results differ from OpenCV's
 *       generic path by up to 2 (of 65535) on some pixels and depend on the CPU IPP dispatches to; this class
 *       reproduces the generic path (= OpenCV with {@code Core.setUseIPP(false)}, and what cv2 without IPP
 *       computes).</li>
 * </ul>
 * {@code CropResamplerTest} checks all of this against {@code Imgproc.resize} on random images, so an OpenCV
 * upgrade that changes the arithmetic fails the build instead of silently shifting predictions.
 *
 * <p>Not thread-safe: it reuses its tables and buffers between images (one per {@link ImagePreprocessor}).
 */
final class CropResampler {
    /** OpenCV's INTER_RESIZE_COEF_SCALE: 8-bit weights are fixed point with 11 fractional bits. */
    private static final int ONE = 1 << 11;
    /** OpenCV's DBL_EPSILON test for "the scale is an integer". */
    private static final double DBL_EPSILON = Math.ulp(1.0);

    private final int size;
    // Per output column: source column, where its two source pixels start in the fetched row (the same pixel
    // twice at and after the last source column, with weights 1 and 0: exactly OpenCV's S[sx] * ONE there), and
    // the weights.
    private final int[] xofs;
    private final int[] index0;
    private final int[] index1;
    private final int[] ialpha0;
    private final int[] ialpha1;
    private final float[] falpha0;
    private final float[] falpha1;
    // Output pixels, sized for the channel count at hand (Mat.put copies whole arrays).
    private byte[] out8 = new byte[0];
    private short[] out16 = new short[0];
    // Two cached horizontal passes (source rows), as OpenCV keeps its ring of row buffers.
    private final int[][] hsum8;
    private final float[][] hsum16;
    private final int[] hsumRow = new int[2];
    private byte[] row8 = new byte[0];
    private short[] row16 = new short[0];

    /** @param size side of the square window, the same for every image */
    CropResampler(int size) {
        this.size = size;
        int maxChannels = 4;
        xofs = new int[size];
        index0 = new int[size];
        index1 = new int[size];
        ialpha0 = new int[size];
        ialpha1 = new int[size];
        falpha0 = new float[size];
        falpha1 = new float[size];
        hsum8 = new int[2][size * maxChannels];
        hsum16 = new float[2][size * maxChannels];
    }

    /**
     * Writes into {@code out} (made {@code size x size}, of {@code src}'s type) the pixels at columns
     * {@code [x0, x0 + size)} and rows {@code [y0, y0 + size)} of {@code src} resized to {@code dstWidth x dstHeight}.
     * Coordinates are {@code long}: the resized image of a 1x30000 picture is 256 x 7,680,000 and need not fit
     * anywhere, only its window does.
     *
     * @param src 8- or 16-bit unsigned, 1 to 4 channels, continuous (as {@code imdecode} returns it)
     */
    void resample(Mat src, long dstWidth, long dstHeight, long x0, long y0, Mat out) {
        int depth = src.depth();
        int cn = src.channels();
        if ((depth != CvType.CV_8U && depth != CvType.CV_16U) || cn < 1 || cn > 4 || !src.isContinuous()) {
            throw new IllegalArgumentException("expected a continuous 8U or 16U Mat of 1 to 4 channels, got " + src);
        }
        if (x0 < 0 || y0 < 0 || x0 + size > dstWidth || y0 + size > dstHeight) {
            throw new IllegalArgumentException("window " + size + "x" + size + " at (" + x0 + ", " + y0
                    + ") lies outside " + dstWidth + "x" + dstHeight);
        }
        int sw = src.cols();
        int sh = src.rows();
        out.create(size, size, src.type());
        if (out8.length != size * size * cn) {
            out8 = new byte[size * size * cn];
            out16 = new short[size * size * cn];
        }
        if (dstWidth == sw && dstHeight == sh) {
            Mat window = src.submat(new Rect((int) x0, (int) y0, size, size));
            try {
                window.copyTo(out);
            } finally {
                window.release();
            }
            return;
        }
        // Exactly as OpenCV derives them: inv_scale = dst / src as a double, scale = 1 / inv_scale.
        double scaleX = 1.0 / ((double) dstWidth / sw);
        double scaleY = 1.0 / ((double) dstHeight / sh);
        boolean areaFast = Math.abs(scaleX - Math.rint(scaleX)) < DBL_EPSILON
                && Math.abs(scaleY - Math.rint(scaleY)) < DBL_EPSILON;
        if (areaFast && Math.rint(scaleX) == 2 && Math.rint(scaleY) == 2) {
            halve(src, cn, depth, (int) x0, (int) y0, out);
            return;
        }
        columnTables(sw, scaleX, x0);
        // Source columns the window reads: xofs is non-decreasing; a non-edge column also reads its right neighbour.
        int firstColumn = xofs[0];
        int lastColumn = Math.min(xofs[size - 1] + 1, sw - 1);
        int span = (lastColumn - firstColumn + 1) * cn;
        for (int i = 0; i < size; i++) {
            index0[i] = (xofs[i] - firstColumn) * cn;
            index1[i] = xofs[i] + 1 < sw ? index0[i] + cn : index0[i];
        }
        hsumRow[0] = -1;
        hsumRow[1] = -1;
        if (depth == CvType.CV_8U) {
            if (row8.length != span) {
                row8 = new byte[span];
            }
            interpolate8(src, sh, cn, firstColumn, scaleY, y0);
            out.put(0, 0, out8);
        } else {
            if (row16.length != span) {
                row16 = new short[span];
            }
            interpolate16(src, sh, cn, firstColumn, scaleY, y0);
            out.put(0, 0, out16);
        }
    }

    /** OpenCV's x tables: source column and weights of each output column, clamped at both borders. */
    private void columnTables(int sw, double scaleX, long x0) {
        for (int i = 0; i < size; i++) {
            float fx = (float) ((x0 + i + 0.5) * scaleX - 0.5);
            int sx = (int) Math.floor(fx);
            fx -= sx;
            if (sx < 0) {
                fx = 0;
                sx = 0;
            }
            if (sx + 1 >= sw) {
                fx = 0;
                sx = sw - 1;
            }
            xofs[i] = sx;
            ialpha0[i] = fixedPoint(1.f - fx);
            ialpha1[i] = fixedPoint(fx);
            falpha0[i] = 1.f - fx;
            falpha1[i] = fx;
        }
    }

    private void interpolate8(Mat src, int sh, int cn, int firstColumn, double scaleY, long y0) {
        int rowLength = size * cn;
        for (int j = 0; j < size; j++) {
            float fy = (float) ((y0 + j + 0.5) * scaleY - 0.5);
            int sy = (int) Math.floor(fy);
            fy -= sy;
            int b0 = fixedPoint(1.f - fy);
            int b1 = fixedPoint(fy);
            int r0 = clamp(sy, sh);
            int r1 = clamp(sy + 1, sh);
            int[] h0 = horizontal8(src, r0, -1, cn, firstColumn);
            int[] h1 = horizontal8(src, r1, r0, cn, firstColumn);
            int base = j * rowLength;
            for (int i = 0; i < rowLength; i++) {
                out8[base + i] = (byte) ((((b0 * (h0[i] >> 4)) >> 16) + ((b1 * (h1[i] >> 4)) >> 16) + 2) >> 2);
            }
        }
    }

    /** The horizontal pass of source row {@code row}, from the cache unless it holds neither; keeps {@code keep}. */
    private int[] horizontal8(Mat src, int row, int keep, int cn, int firstColumn) {
        int slot = slotFor(row, keep);
        int[] h = hsum8[slot];
        if (hsumRow[slot] == row) {
            return h;
        }
        src.get(row, firstColumn, row8);
        byte[] r = row8;
        if (cn == 3) {
            for (int i = 0, o = 0; i < size; i++, o += 3) {
                int p = index0[i];
                int q = index1[i];
                int a0 = ialpha0[i];
                int a1 = ialpha1[i];
                h[o] = (r[p] & 0xFF) * a0 + (r[q] & 0xFF) * a1;
                h[o + 1] = (r[p + 1] & 0xFF) * a0 + (r[q + 1] & 0xFF) * a1;
                h[o + 2] = (r[p + 2] & 0xFF) * a0 + (r[q + 2] & 0xFF) * a1;
            }
        } else {
            for (int i = 0, o = 0; i < size; i++, o += cn) {
                int p = index0[i];
                int q = index1[i];
                for (int k = 0; k < cn; k++) {
                    h[o + k] = (r[p + k] & 0xFF) * ialpha0[i] + (r[q + k] & 0xFF) * ialpha1[i];
                }
            }
        }
        hsumRow[slot] = row;
        return h;
    }

    private void interpolate16(Mat src, int sh, int cn, int firstColumn, double scaleY, long y0) {
        int rowLength = size * cn;
        for (int j = 0; j < size; j++) {
            float fy = (float) ((y0 + j + 0.5) * scaleY - 0.5);
            int sy = (int) Math.floor(fy);
            fy -= sy;
            float b0 = 1.f - fy;
            float b1 = fy;
            int r0 = clamp(sy, sh);
            int r1 = clamp(sy + 1, sh);
            float[] h0 = horizontal16(src, r0, -1, cn, firstColumn);
            float[] h1 = horizontal16(src, r1, r0, cn, firstColumn);
            int base = j * rowLength;
            for (int i = 0; i < rowLength; i++) {
                int v = (int) Math.rint(h0[i] * b0 + h1[i] * b1);
                out16[base + i] = (short) Math.max(0, Math.min(0xFFFF, v));
            }
        }
    }

    private float[] horizontal16(Mat src, int row, int keep, int cn, int firstColumn) {
        int slot = slotFor(row, keep);
        float[] h = hsum16[slot];
        if (hsumRow[slot] == row) {
            return h;
        }
        src.get(row, firstColumn, row16);
        short[] r = row16;
        for (int i = 0, o = 0; i < size; i++, o += cn) {
            int p = index0[i];
            int q = index1[i];
            float a0 = falpha0[i];
            float a1 = falpha1[i];
            for (int k = 0; k < cn; k++) {
                h[o + k] = (r[p + k] & 0xFFFF) * a0 + (r[q + k] & 0xFFFF) * a1;
            }
        }
        hsumRow[slot] = row;
        return h;
    }

    /** The cache slot holding {@code row}, else the one not holding {@code keep} (the other row of this output row). */
    private int slotFor(int row, int keep) {
        if (hsumRow[0] == row) {
            return 0;
        }
        if (hsumRow[1] == row) {
            return 1;
        }
        return hsumRow[0] == keep ? 1 : 0;
    }

    /** OpenCV's fast area path for an exact 2x reduction: the rounded mean of each 2x2 block. */
    private void halve(Mat src, int cn, int depth, int x0, int y0, Mat out) {
        int span = 2 * size * cn;
        int rowLength = size * cn;
        if (depth == CvType.CV_8U) {
            byte[] top = new byte[span];
            byte[] bottom = new byte[span];
            for (int j = 0; j < size; j++) {
                src.get(2 * (y0 + j), 2 * x0, top);
                src.get(2 * (y0 + j) + 1, 2 * x0, bottom);
                for (int i = 0; i < rowLength; i++) {
                    int p = (i / cn) * 2 * cn + i % cn;
                    int sum = (top[p] & 0xFF) + (top[p + cn] & 0xFF) + (bottom[p] & 0xFF) + (bottom[p + cn] & 0xFF);
                    out8[j * rowLength + i] = (byte) ((sum + 2) >> 2);
                }
            }
            out.put(0, 0, out8);
        } else {
            short[] top = new short[span];
            short[] bottom = new short[span];
            for (int j = 0; j < size; j++) {
                src.get(2 * (y0 + j), 2 * x0, top);
                src.get(2 * (y0 + j) + 1, 2 * x0, bottom);
                for (int i = 0; i < rowLength; i++) {
                    int p = (i / cn) * 2 * cn + i % cn;
                    int sum = (top[p] & 0xFFFF) + (top[p + cn] & 0xFFFF) + (bottom[p] & 0xFFFF)
                            + (bottom[p + cn] & 0xFFFF);
                    out16[j * rowLength + i] = (short) ((sum + 2) >> 2);
                }
            }
            out.put(0, 0, out16);
        }
    }

    /** OpenCV's {@code saturate_cast<short>(w * INTER_RESIZE_COEF_SCALE)}: round half to even, in float. */
    private static int fixedPoint(float weight) {
        return (int) Math.rint(weight * ONE);
    }

    private static int clamp(int row, int rows) {
        return row < 0 ? 0 : Math.min(row, rows - 1);
    }
}
