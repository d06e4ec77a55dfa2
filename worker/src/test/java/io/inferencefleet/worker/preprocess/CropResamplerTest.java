package io.inferencefleet.worker.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * The crop-only resampling against OpenCV's own {@code Imgproc.resize} followed by a crop, pixel for pixel, on
 * random noise (the worst case for rounding) of many shapes. Full resizes are kept small (a few megapixels) so the
 * test stays cheap; the very long shapes are checked against OpenCV on a strip of the image instead.
 */
class CropResamplerTest {
    private static final int CROP = 224;
    private static final int SHORT = 256;

    @BeforeAll
    static void loadOpenCv() {
        OpenCv.ensureLoaded();
    }

    @Test
    void eightBitWindowsEqualResizeThenCropExactly() {
        SplittableRandom random = new SplittableRandom(11);
        List<int[]> shapes = new ArrayList<>(List.of(
                new int[] {256, 256},   // equal sizes: OpenCV copies
                new int[] {256, 300},   // one axis unscaled
                new int[] {512, 512},   // exactly 2x on both axes: OpenCV's fast area path
                new int[] {512, 700},   // 2x on both axes again (700 -> 350)
                new int[] {1024, 768},  // 3x and 4x: plain bilinear
                new int[] {1, 1}, new int[] {2, 3}, new int[] {5, 3}, new int[] {10, 10},  // large upscales
                new int[] {3, 600}, new int[] {600, 3}, new int[] {1, 90}, new int[] {90, 1},  // slivers
                new int[] {4000, 300}, new int[] {333, 517}, new int[] {255, 257}, new int[] {225, 224}));
        for (int i = 0; i < 120; i++) {
            shapes.add(new int[] {1 + random.nextInt(1500), 1 + random.nextInt(1500)});
        }
        CropResampler resampler = new CropResampler(CROP);
        int checked = 0;
        for (int s = 0; s < shapes.size(); s++) {
            // Every shape in colour (what imdecode gives us); every fourth also in grey and with alpha.
            int[] channelCounts = s % 4 == 0 ? new int[] {3, 1, 4} : new int[] {3};
            for (int channels : channelCounts) {
                int[] shape = shapes.get(s);
                assertWindowMatches(resampler, noise(shape[0], shape[1], CvType.CV_8UC(channels), random));
                checked++;
            }
        }
        assertTrue(checked > 150, "checked " + checked);
    }

    @Test
    void sixteenBitWindowsEqualOpenCvsGenericResize() {
        // The org.openpnp build hands 16-bit linear resizes to IPP; the resampler reproduces OpenCV's own path.
        boolean ipp = Core.useIPP();
        Core.setUseIPP(false);
        try {
            SplittableRandom random = new SplittableRandom(12);
            CropResampler resampler = new CropResampler(CROP);
            List<int[]> shapes = new ArrayList<>(List.of(new int[] {512, 512}, new int[] {256, 256},
                    new int[] {5, 3}, new int[] {3, 500}, new int[] {200, 200}, new int[] {700, 450}));
            for (int i = 0; i < 30; i++) {
                shapes.add(new int[] {1 + random.nextInt(900), 1 + random.nextInt(900)});
            }
            for (int[] shape : shapes) {
                assertWindowMatches(resampler, noise(shape[0], shape[1], CvType.CV_16UC3, random));
            }
        } finally {
            Core.setUseIPP(ipp);
        }
    }

    @Test
    void ippDiffersFromOpenCvsGenericPathByAtMostTwoLevelsIn16Bit() {
        // Documents the one deliberate difference from the old implementation (which used IPP for 16 bit).
        assertTrue(Core.useIPP(), "this OpenCV build uses IPP by default");
        SplittableRandom random = new SplittableRandom(13);
        CropResampler resampler = new CropResampler(CROP);
        int maxDifference = 0;
        for (int i = 0; i < 8; i++) {
            Mat src = noise(150 + random.nextInt(500), 150 + random.nextInt(500), CvType.CV_16UC3, random);
            short[] expected = resizeThenCrop(src);
            short[] actual = new short[expected.length];
            Mat out = new Mat();
            resample(resampler, src, out);
            out.get(0, 0, actual);
            for (int j = 0; j < expected.length; j++) {
                maxDifference = Math.max(maxDifference, Math.abs((expected[j] & 0xFFFF) - (actual[j] & 0xFFFF)));
            }
            out.release();
            src.release();
        }
        // Observed on AVX-512 and AVX2 machines; IPP picks its code path by CPU, so this documents, per machine.
        assertTrue(maxDifference <= 2, "IPP vs generic 16-bit resize: " + maxDifference + " levels of 65535");
    }

    @Test
    void windowsOfHugeResizedImagesNeedNoIntermediate() {
        // 1x30000 (and 2x, 4x): resized to 256 x 7,680,000, which the old code allocated (5.9 GB). When the scale is a
        // power of two every coordinate OpenCV computes is exact, so resizing only a strip of rows around the crop
        // gives the same pixels: an independent expectation, from OpenCV itself, for the window.
        SplittableRandom random = new SplittableRandom(14);
        CropResampler resampler = new CropResampler(CROP);
        for (int cols : new int[] {1, 2, 4}) {
            int rows = 30_000;
            Mat src = noise(cols, rows, CvType.CV_8UC3, random);
            ImagePreprocessor.Geometry g = ImagePreprocessor.Geometry.of(cols, rows, SHORT, CROP);
            int scale = SHORT / cols;
            assertEquals((long) rows * scale, g.height());
            Mat out = new Mat();
            long start = System.nanoTime();
            resampler.resample(src, g.width(), g.height(), g.cropX(), g.cropY(), out);
            long micros = (System.nanoTime() - start) / 1000;
            int firstRow = (int) (g.cropY() / scale) - 4;
            int stripRows = CROP / scale + 10;
            Mat strip = src.submat(new Rect(0, firstRow, cols, stripRows));
            Mat resizedStrip = new Mat();
            Imgproc.resize(strip, resizedStrip, new Size(SHORT, stripRows * scale), 0, 0, Imgproc.INTER_LINEAR);
            Mat expected = resizedStrip.submat(new Rect((int) g.cropX(), (int) (g.cropY() - (long) firstRow * scale),
                    CROP, CROP));
            assertArrayEquals(bytes(expected), bytes(out), cols + "x" + rows);
            assertTrue(micros < 1_000_000, "took " + micros + " us");
            for (Mat m : new Mat[] {expected, resizedStrip, strip, out, src}) {
                m.release();
            }
        }
    }

    private static void assertWindowMatches(CropResampler resampler, Mat src) {
        Mat out = new Mat();
        try {
            resample(resampler, src, out);
            assertEquals(src.type(), out.type());
            String what = src.cols() + "x" + src.rows() + " " + CvType.typeToString(src.type());
            if (src.depth() == CvType.CV_8U) {
                byte[] expected = resizeThenCropBytes(src);
                byte[] actual = bytes(out);
                if (!java.util.Arrays.equals(expected, actual)) {
                    fail(what + ": " + differences(expected, actual));
                }
            } else {
                short[] expected = resizeThenCrop(src);
                short[] actual = new short[expected.length];
                out.get(0, 0, actual);
                assertArrayEquals(expected, actual, what);
            }
        } finally {
            out.release();
            src.release();
        }
    }

    private static void resample(CropResampler resampler, Mat src, Mat out) {
        ImagePreprocessor.Geometry g = ImagePreprocessor.Geometry.of(src.cols(), src.rows(), SHORT, CROP);
        resampler.resample(src, g.width(), g.height(), g.cropX(), g.cropY(), out);
    }

    private static Mat resizedThenCropped(Mat src) {
        ImagePreprocessor.Geometry g = ImagePreprocessor.Geometry.of(src.cols(), src.rows(), SHORT, CROP);
        Mat resized = new Mat();
        Imgproc.resize(src, resized, new Size(g.width(), g.height()), 0, 0, Imgproc.INTER_LINEAR);
        Mat window = resized.submat(new Rect((int) g.cropX(), (int) g.cropY(), CROP, CROP));
        Mat copy = window.clone();
        window.release();
        resized.release();
        return copy;
    }

    private static byte[] resizeThenCropBytes(Mat src) {
        Mat window = resizedThenCropped(src);
        byte[] b = bytes(window);
        window.release();
        return b;
    }

    private static short[] resizeThenCrop(Mat src) {
        Mat window = resizedThenCropped(src);
        short[] s = new short[(int) window.total() * window.channels()];
        window.get(0, 0, s);
        window.release();
        return s;
    }

    private static byte[] bytes(Mat m) {
        Mat continuous = m.isContinuous() ? m : m.clone();
        byte[] b = new byte[(int) continuous.total() * continuous.channels()];
        continuous.get(0, 0, b);
        if (continuous != m) {
            continuous.release();
        }
        return b;
    }

    private static String differences(byte[] expected, byte[] actual) {
        int count = 0;
        int first = -1;
        int max = 0;
        for (int i = 0; i < expected.length; i++) {
            int d = Math.abs((expected[i] & 0xFF) - (actual[i] & 0xFF));
            if (d != 0) {
                count++;
                max = Math.max(max, d);
                first = first < 0 ? i : first;
            }
        }
        return count + " of " + expected.length + " values differ, by up to " + max + ", first at " + first;
    }

    /** Uniform noise, seeded; OpenCV's randu is seeded by the Java random so runs repeat. */
    static Mat noise(int cols, int rows, int type, SplittableRandom random) {
        Mat m = new Mat(rows, cols, type);
        Core.setRNGSeed(random.nextInt());
        double high = CvType.depth(type) == CvType.CV_16U ? 65536 : 256;
        Core.randu(m, 0, high);
        return m;
    }
}
