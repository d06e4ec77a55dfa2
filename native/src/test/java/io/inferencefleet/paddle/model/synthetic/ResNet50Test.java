package io.inferencefleet.paddle.model.synthetic;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;
import io.inferencefleet.paddle.reference.DoubleTensor;
import io.inferencefleet.paddle.reference.ReferenceInterpreter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generates ResNet-50 on disk, reads it back and runs it through the reference interpreter. */
@Tag("slow")
class ResNet50Test {

    @TempDir
    Path dir;

    @Test
    void generatedResNet50ReadsBackWithImageNetShapeAndSpreadSoftmax() throws Exception {
        long t0 = System.nanoTime();
        ModelFiles files = BuiltinModels.generate(BuiltinModels.RESNET50, dir, 7);
        long t1 = System.nanoTime();
        ModelInfo model = ModelReader.read(files.modelFile());
        ParamsFile.validate(files.paramsFile(), model);
        long t2 = System.nanoTime();

        assertEquals(25_557_032L, model.parameterCount());
        assertEquals(25_557_032L + 2 * 26_560, model.persistableElementCount());
        assertEquals(4L * model.persistableElementCount() + 20L * model.parameters().size()
                + model.parameters().stream().mapToLong(p -> descBytes(p)).sum(), Files.size(files.paramsFile()));
        assertArrayEquals(new long[] {-1, 3, 224, 224}, model.feeds().get(0).dims());
        assertArrayEquals(new long[] {-1, 1000}, model.fetches().get(0).dims());
        assertEquals(179, model.opTypes().size());
        assertEquals(53, model.opCounts().get("conv2d"));
        assertEquals(53, model.opCounts().get("batch_norm"));
        assertEquals(49, model.opCounts().get("relu"));
        assertEquals(17, model.opCounts().get("elementwise_add"));
        assertEquals(2, model.opCounts().get("pool2d"));

        Map<String, float[]> params = ParamsFile.read(files.paramsFile(), model);
        long t3 = System.nanoTime();
        float[] image = new float[3 * 224 * 224];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < image.length; i++) {
            image[i] = (float) random.nextGaussian();   // roughly what NormalizeImage produces
        }
        DoubleTensor probs = new ReferenceInterpreter().run(model, params, image, new int[] {1, 3, 224, 224});
        long t4 = System.nanoTime();

        assertArrayEquals(new int[] {1, 1000}, probs.shape());
        assertEquals(1.0, Arrays.stream(probs.data()).sum(), 1e-9);
        double max = Arrays.stream(probs.data()).max().orElseThrow();
        System.out.printf("resnet50: generate %d ms, read+validate %d ms, read params %d ms, forward %d ms,"
                        + " max prob %.4f, min prob %.6f%n", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000, max, Arrays.stream(probs.data()).min().orElseThrow());
        assertTrue(max < 0.5, "softmax should not be one-hot, max prob " + max);
        assertTrue(max > 2.0 / 1000, "softmax should not be uniform, max prob " + max);
    }

    private static long descBytes(TensorSpec p) {
        VarType.TensorDesc.Builder d = VarType.TensorDesc.newBuilder().setDataType(p.dataType());
        Arrays.stream(p.dims()).forEach(d::addDims);
        return d.build().getSerializedSize();
    }
}
