package io.inferencefleet.paddle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.reference.DoubleTensor;
import io.inferencefleet.paddle.reference.ReferenceInterpreter;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Paddle (with IR optimisation on, i.e. conv+bn and fc fused) against the independent float64
 * reference interpreter, on the same weights and inputs.
 */
class PaddleMatchesReferenceTest {
    private static final double TOLERANCE = 1e-5;

    @Test
    void tinyMatchesTheReferenceOnABatchOfTwo() throws IOException {
        Path dir = TestModels.tiny();
        FloatBuffer input = PredictorTest.randomImages(2, 11);
        float[] values = new float[input.capacity()];
        input.get(0, values);
        int[] shape = {2, 3, 224, 224};

        double maxError = compare(dir, values, shape);
        System.out.printf("tiny batch 2: max abs error Paddle vs float64 reference = %.3g%n", maxError);
        assertTrue(maxError <= TOLERANCE, "max abs error " + maxError);
    }

    @Test
    @Tag("slow")
    void resnet50MatchesTheReferenceOnARealPhoto() throws IOException {
        Path dir = TestModels.resnet50();
        Path photo = SharedImages.dir().resolve("squirrel_cls.jpg");
        float[] values = imageNetTensor(photo);
        double maxError = compare(dir, values, new int[] {1, 3, 224, 224});
        System.out.printf("resnet50 %s: max abs error Paddle vs float64 reference = %.3g%n",
                photo.getFileName(), maxError);
        assertTrue(maxError <= TOLERANCE, "max abs error " + maxError);
    }

    /** Runs both and returns the largest absolute difference of the outputs. */
    private static double compare(Path dir, float[] values, int[] shape) throws IOException {
        ModelFiles files = ModelFiles.inDirectory(dir);
        ModelInfo model = ModelReader.read(files.modelFile());
        Map<String, float[]> params = ParamsFile.read(files.paramsFile(), model);
        DoubleTensor expected = new ReferenceInterpreter().run(model, params, values, shape);

        FloatBuffer direct = ByteBuffer.allocateDirect(values.length * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(0, values);
        float[] actual = new float[expected.data().length];
        try (Predictor predictor = Predictor.create(PredictorConfig.builder(files.modelFile(), files.paramsFile())
                .irOptim(true).build())) {
            predictor.setInput(0, direct, shape);
            predictor.run();
            assertArrayEquals(expected.shape(), predictor.outputShape(0));
            assertEquals(actual.length, predictor.copyOutput(0, actual));
        }
        double maxError = 0;
        double maxProbability = 0;
        for (int i = 0; i < actual.length; i++) {
            maxError = Math.max(maxError, Math.abs(actual[i] - expected.data()[i]));
            maxProbability = Math.max(maxProbability, expected.data()[i]);
        }
        // Guard against a vacuous comparison (e.g. all-zero or uniform outputs).
        assertTrue(maxProbability > 1.5 / expected.shape()[1], "outputs are not uniform: max " + maxProbability);
        return maxError;
    }

    /**
     * ImageNet preprocessing with the JDK's decoder, only to get a real photo into the tensor for
     * this comparison (the worker uses OpenCV): short side to 256, centre crop 224, RGB, scale
     * 1/255, mean/std, CHW.
     */
    static float[] imageNetTensor(Path photo) throws IOException {
        BufferedImage image = ImageIO.read(photo.toFile());
        double scale = 256.0 / Math.min(image.getWidth(), image.getHeight());
        int width = (int) Math.round(image.getWidth() * scale);
        int height = (int) Math.round(image.getHeight() * scale);
        BufferedImage resized = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = resized.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(image, 0, 0, width, height, null);
        g.dispose();
        int left = (width - 224) / 2;
        int top = (height - 224) / 2;
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        float[] chw = new float[3 * 224 * 224];
        for (int y = 0; y < 224; y++) {
            for (int x = 0; x < 224; x++) {
                int rgb = resized.getRGB(left + x, top + y);
                int[] channel = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                for (int c = 0; c < 3; c++) {
                    chw[c * 224 * 224 + y * 224 + x] = (channel[c] / 255f - mean[c]) / std[c];
                }
            }
        }
        return chw;
    }
}
