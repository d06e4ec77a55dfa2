package io.inferencefleet.worker.preprocess;

import java.util.Arrays;

/**
 * How an encoded image becomes a model input: resize the short side, centre-crop a square, scale,
 * normalise per channel, write planar (CHW) float32 in RGB (or BGR) order. Immutable; the defaults
 * are ImageNet's (the PaddleClas ResNet recipe). {@link PaddleClasConfig} reads the same settings
 * from a PaddleClas {@code inference.yml}.
 */
public final class PreprocessConfig {
    /** 40 megapixels: far above any camera photo, far below what exhausts a worker's memory. */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

    private final int resizeShortSide;
    private final int cropSize;
    private final double scale;
    private final double[] mean;
    private final double[] std;
    private final boolean rgb;
    private final long maxPixels;

    private PreprocessConfig(int resizeShortSide, int cropSize, double scale, double[] mean, double[] std,
                             boolean rgb, long maxPixels) {
        check(resizeShortSide >= 1, "resizeShortSide", resizeShortSide, "must be positive");
        check(cropSize >= 1 && cropSize <= resizeShortSide, "cropSize", cropSize,
                "must be positive and at most resizeShortSide (" + resizeShortSide + ")");
        check(scale > 0 && Double.isFinite(scale), "scale", scale, "must be a positive number");
        check(mean.length == 3, "mean", Arrays.toString(mean), "needs 3 values");
        check(std.length == 3 && Arrays.stream(std).allMatch(s -> s > 0), "std", Arrays.toString(std),
                "needs 3 positive values");
        check(maxPixels >= 1, "maxPixels", maxPixels, "must be positive");
        this.resizeShortSide = resizeShortSide;
        this.cropSize = cropSize;
        this.scale = scale;
        this.mean = mean.clone();
        this.std = std.clone();
        this.rgb = rgb;
        this.maxPixels = maxPixels;
    }

    /** ImageNet: short side 256, crop 224, x/255, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), RGB. */
    public static PreprocessConfig imageNet() {
        return new PreprocessConfig(256, 224, 1.0 / 255.0, new double[] {0.485, 0.456, 0.406},
                new double[] {0.229, 0.224, 0.225}, true, DEFAULT_MAX_PIXELS);
    }

    public PreprocessConfig withResize(int resizeShortSide, int cropSize) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels);
    }

    public PreprocessConfig withNormalization(double scale, double[] mean, double[] std) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels);
    }

    public PreprocessConfig withRgb(boolean rgb) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels);
    }

    public PreprocessConfig withMaxPixels(long maxPixels) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels);
    }

    public int resizeShortSide() {
        return resizeShortSide;
    }

    public int cropSize() {
        return cropSize;
    }

    public double scale() {
        return scale;
    }

    /** Mean of output channel {@code c} (in output order: R, G, B when {@link #rgb()}). */
    public double mean(int c) {
        return mean[c];
    }

    public double std(int c) {
        return std[c];
    }

    public boolean rgb() {
        return rgb;
    }

    public long maxPixels() {
        return maxPixels;
    }

    /** Shape of one preprocessed image: {@code [3, crop, crop]}. */
    public int[] chwShape() {
        return new int[] {3, cropSize, cropSize};
    }

    /** Bytes of one preprocessed image (float32 CHW). */
    public int tensorBytes() {
        return 3 * cropSize * cropSize * Float.BYTES;
    }

    @Override
    public String toString() {
        return "PreprocessConfig{resizeShortSide=" + resizeShortSide + ", cropSize=" + cropSize + ", scale=" + scale
                + ", mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ", order="
                + (rgb ? "RGB" : "BGR") + ", maxPixels=" + maxPixels + '}';
    }

    private static void check(boolean ok, String name, Object value, String why) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + value + " for " + name + ": " + why);
        }
    }
}
