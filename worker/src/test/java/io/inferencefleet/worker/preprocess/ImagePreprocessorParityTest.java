package io.inferencefleet.worker.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Scalar;

/**
 * The preprocessing against {@link ReferencePreprocessing} (the implementation that resized the whole image first),
 * on the final normalised tensor: every shared photo, and generated images of the shapes where the two could part
 * (exact 2x, equal sizes, large upscales, slivers, random noise). Run twice: as configured (small resized images go
 * through OpenCV's own resize) and with the crop-only resampler forced for every image, so that the resampler is
 * compared with the old code on every shared photo, not only on the slivers it is there for.
 */
class ImagePreprocessorParityTest {
    /** The contract: the tensors agree to 1e-5 (in practice 8-bit tensors are identical). */
    private static final double TOLERANCE = 1e-5;
    /** Slivers are part of the comparison, so the aspect-ratio refusal is lifted. */
    private static final PreprocessConfig CONFIG = PreprocessConfig.imageNet().withMaxAspectRatio(1e6);

    @Nested
    class AsConfigured extends Checks {
        AsConfigured() {
            super(new ImagePreprocessor(CONFIG));
        }
    }

    @Nested
    class CropOnly extends Checks {
        CropOnly() {
            super(new ImagePreprocessor(CONFIG, 0));
        }
    }

    /** The checks, run once per way of building the preprocessor. */
    abstract static class Checks {
        private final ImagePreprocessor pre;
        private final ByteBuffer target =
                ByteBuffer.allocateDirect(CONFIG.tensorBytes()).order(ByteOrder.nativeOrder());

        Checks(ImagePreprocessor pre) {
            this.pre = pre;
        }

        @AfterEach
        void close() {
            pre.close();
        }

        @Test
        void everySharedImageEqualsTheFullResizeReference() throws IOException {
            List<String> report = new ArrayList<>();
            try (Stream<Path> files = Files.list(ImagePreprocessorTest.sharedImages())) {
                for (Path file : files.sorted().toList()) {
                    byte[] bytes = Files.readAllBytes(file);
                    if (pre.preprocess(bytes, target.clear()) != PreprocessStatus.OK) {
                        continue;  // truncated.jpg; ImagePreprocessorTest checks its code
                    }
                    float[] expected = ReferencePreprocessing.preprocess(bytes, CONFIG);
                    assertNotNull(expected, file.toString());
                    double difference = maxDifference(expected, tensor());
                    report.add(file.getFileName() + "=" + difference);
                    assertTrue(difference <= TOLERANCE, file + " differs by " + difference);
                }
            }
            assertTrue(report.size() >= 20, report.toString());
        }

        @Test
        void generatedEightBitImagesEqualTheReferenceExactly() {
            SplittableRandom random = new SplittableRandom(21);
            List<int[]> shapes = new ArrayList<>(List.of(new int[] {256, 256}, new int[] {256, 300},
                    new int[] {512, 512}, new int[] {512, 700}, new int[] {1, 1}, new int[] {5, 3}, new int[] {3, 600},
                    new int[] {600, 3}, new int[] {4000, 3000}, new int[] {333, 517}, new int[] {225, 224}));
            for (int i = 0; i < 25; i++) {
                shapes.add(new int[] {1 + random.nextInt(1200), 1 + random.nextInt(1200)});
            }
            for (int[] shape : shapes) {
                boolean big = (long) shape[0] * shape[1] > 2_000_000;  // encoding noise as PNG is slow: colour only
                for (int type : big ? new int[] {CvType.CV_8UC3} : new int[] {CvType.CV_8UC3, CvType.CV_8UC1,
                        CvType.CV_8UC4}) {
                    Mat image = CropResamplerTest.noise(shape[0], shape[1], type, random);
                    byte[] png = ImagePreprocessorTest.png(image);
                    image.release();
                    assertEquals(PreprocessStatus.OK, pre.preprocess(png, target.clear()), pre.lastDetail());
                    float[] expected = ReferencePreprocessing.preprocess(png, CONFIG);
                    double difference = maxDifference(expected, tensor());
                    assertEquals(0.0, difference, shape[0] + "x" + shape[1] + " " + CvType.typeToString(type));
                }
            }
        }

        @Test
        void generatedSixteenBitImagesEqualOpenCvsGenericResizeAndStayWithinTwoLevelsOfIpp() {
            SplittableRandom random = new SplittableRandom(22);
            // One 16-bit level of 65535, normalised by the smallest std: what IPP's rounding can move a value by.
            double level = CONFIG.scale() / 257.0 / Math.min(CONFIG.std(0), Math.min(CONFIG.std(1), CONFIG.std(2)));
            double worstIpp = 0;
            for (int[] shape : List.of(new int[] {300, 200}, new int[] {512, 512}, new int[] {7, 5},
                    new int[] {640, 480}, new int[] {257, 999})) {
                Mat image = CropResamplerTest.noise(shape[0], shape[1], CvType.CV_16UC3, random);
                byte[] png = ImagePreprocessorTest.png(image);
                image.release();
                assertEquals(PreprocessStatus.OK, pre.preprocess(png, target.clear()), pre.lastDetail());
                float[] actual = tensor();
                float[] withIpp = ReferencePreprocessing.preprocess(png, CONFIG);
                boolean ipp = Core.useIPP();
                Core.setUseIPP(false);
                float[] generic;
                try {
                    generic = ReferencePreprocessing.preprocess(png, CONFIG);
                } finally {
                    Core.setUseIPP(ipp);
                }
                String what = shape[0] + "x" + shape[1];
                assertTrue(maxDifference(generic, actual) <= TOLERANCE, what + " vs OpenCV without IPP");
                worstIpp = Math.max(worstIpp, maxDifference(withIpp, actual));
                assertTrue(maxDifference(withIpp, actual) <= 2 * level + TOLERANCE, what + " vs OpenCV with IPP");
            }
            if (Core.useIPP()) {
                // Shows the comparison above can tell the two apart (this OpenCV build rounds some noise pixels apart).
                assertTrue(worstIpp > 0, "IPP and OpenCV's generic path gave identical 16-bit tensors");
            }
        }

        @Test
        void theResizedSizeRoundsHalvesToEvenLikePaddleClas() {
            // Python: int(round(601 * 0.5)) == 300, int(round(603 * 0.5)) == 302, int(round(300.25)) == 300.
            assertEquals(300, ImagePreprocessor.Geometry.of(601, 512, 256, 224).width());
            assertEquals(302, ImagePreprocessor.Geometry.of(603, 512, 256, 224).width());
            assertEquals(300, ImagePreprocessor.Geometry.of(512, 601, 256, 224).height());
            assertEquals(341, ImagePreprocessor.Geometry.of(1023, 767, 256, 224).width());
            Mat image = CropResamplerTest.noise(601, 512, CvType.CV_8UC3, new SplittableRandom(23));
            byte[] png = ImagePreprocessorTest.png(image);
            float[] paddleClas = ReferencePreprocessing.resized(image, CONFIG, 300, 256, CONFIG.scale());
            float[] halvesUp = ReferencePreprocessing.preprocess(image, CONFIG);
            image.release();
            assertEquals(PreprocessStatus.OK, pre.preprocess(png, target.clear()), pre.lastDetail());
            assertEquals(0.0, maxDifference(paddleClas, tensor()));
            assertTrue(maxDifference(halvesUp, tensor()) > 1, "a 301-wide resize crops other pixels");
        }

        @Test
        void aVeryLongImageCostsWhatAnOrdinaryOneCosts() {
            // 1x30000: the reference would resize it to 256 x 7,680,000 (20 s, 7 GB RSS when measured).
            Mat sliver = new Mat(30_000, 1, CvType.CV_8UC3, new Scalar(20, 120, 220));
            byte[] png = ImagePreprocessorTest.png(sliver);
            sliver.release();
            pre.preprocess(png, target.clear());  // warm up
            long start = System.nanoTime();
            assertEquals(PreprocessStatus.OK, pre.preprocess(png, target.clear()), pre.lastDetail());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 1000, "took " + millis + " ms");
            float[] chw = tensor();
            float red = (float) ((220 / 255.0 - 0.485) / 0.229);
            float blue = (float) ((20 / 255.0 - 0.406) / 0.225);
            int plane = 224 * 224;
            assertEquals(red, chw[plane / 2], 1e-5);
            assertEquals(blue, chw[2 * plane + plane - 1], 1e-5);
        }

        private float[] tensor() {
            float[] chw = new float[CONFIG.tensorBytes() / Float.BYTES];
            target.clear();
            target.asFloatBuffer().get(chw);
            return chw;
        }

    }

    static double maxDifference(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs((double) expected[i] - actual[i]));
        }
        return max;
    }
}
