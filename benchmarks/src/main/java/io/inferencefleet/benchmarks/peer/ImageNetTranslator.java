package io.inferencefleet.benchmarks.peer;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import java.util.ArrayList;
import java.util.List;

/**
 * ImageNet classification pre- and post-processing for DJL's PaddlePaddle engine: resize the
 * shorter side to 256 (DJL's {@link Image#resize}), centre-crop 224x224 ({@link Image#getSubImage}),
 * to an RGB uint8 HWC {@link NDArray} ({@link Image#toNDArray}), then scale to [0, 1], normalise
 * with the ImageNet mean/std and lay out as float32 NCHW {@code [1, 3, 224, 224]}. The model ends
 * in softmax, so the output is used as is (no softmax here).
 *
 * <p>Why not {@code ImageClassificationTranslator} with {@code Resize}/{@code CenterCrop}/
 * {@code ToTensor}/{@code Normalize}: DJL's PaddlePaddle engine implements only NDArray creation
 * and reading; every NDArray operation those transforms use (and {@code Classifications}' own
 * {@code toType}) is delegated to an "alternative" full engine (PyTorch, MXNet or TensorFlow, see
 * DJL's hybrid-engine docs) and throws {@code UnsupportedOperationException} without one. So the
 * image operations here are DJL's {@link Image} API and the per-pixel normalisation is a Java loop.
 * The same reason makes {@link #getBatchifier()} return null (stacking is an NDArray operation):
 * the input is built with its batch dimension.
 *
 * <p>Remembers, per thread, how long its last {@link #processInput} took ({@link #lastPreprocessNanos()}),
 * since DJL's {@code predict()} runs pre-processing, inference and post-processing in one call.
 */
final class ImageNetTranslator implements Translator<Image, Classifications> {
    static final int RESIZE_SHORT = 256;
    static final int CROP = 224;
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    private final List<String> classNames;
    private final ThreadLocal<long[]> lastPreprocessNs = ThreadLocal.withInitial(() -> new long[1]);

    ImageNetTranslator(int classes) {
        classNames = new ArrayList<>(classes);
        for (int i = 0; i < classes; i++) {
            classNames.add(Integer.toString(i));
        }
    }

    @Override
    public NDList processInput(TranslatorContext ctx, Image input) {
        long start = System.nanoTime();
        int width = input.getWidth();
        int height = input.getHeight();
        double ratio = (double) RESIZE_SHORT / Math.min(width, height);
        int newWidth = Math.max(CROP, (int) Math.round(width * ratio));
        int newHeight = Math.max(CROP, (int) Math.round(height * ratio));
        Image resized = input.resize(newWidth, newHeight, false);
        Image cropped = resized.getSubImage((newWidth - CROP) / 2, (newHeight - CROP) / 2, CROP, CROP);
        NDManager manager = ctx.getNDManager();
        NDArray hwc = cropped.toNDArray(manager, Image.Flag.COLOR);
        byte[] rgb = hwc.toByteArray();
        hwc.close();
        int plane = CROP * CROP;
        float[] chw = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                chw[c * plane + i] = ((rgb[i * 3 + c] & 0xFF) / 255f - MEAN[c]) / STD[c];
            }
        }
        NDArray tensor = manager.create(chw, new Shape(1, 3, CROP, CROP));
        lastPreprocessNs.get()[0] = System.nanoTime() - start;
        return new NDList(tensor);
    }

    /** How long the calling thread's last {@link #processInput} took, in nanoseconds. */
    long lastPreprocessNanos() {
        return lastPreprocessNs.get()[0];
    }

    @Override
    public Classifications processOutput(TranslatorContext ctx, NDList list) {
        float[] scores = list.singletonOrThrow().toFloatArray();
        if (scores.length != classNames.size()) {
            throw new IllegalStateException("model output has " + scores.length + " values, expected " + classNames.size());
        }
        List<Double> probabilities = new ArrayList<>(scores.length);
        for (float score : scores) {
            probabilities.add((double) score);
        }
        return new Classifications(classNames, probabilities);
    }

    @Override
    public Batchifier getBatchifier() {
        return null;
    }
}
