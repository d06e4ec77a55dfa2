package io.inferencefleet.worker.preprocess;

import java.util.Arrays;

/**
 * How an encoded image becomes a model input: resize the short side, centre-crop a square, scale,
 * normalise per channel, write planar (CHW) float32 in RGB (or BGR) order; and which images are refused
 * before decoding. Immutable; the defaults are ImageNet's (the PaddleClas ResNet recipe). {@link PaddleClasConfig}
 * reads the model's settings from a PaddleClas {@code inference.yml}; the limits come from the worker's config:
 * <pre>{@code
 * PreprocessConfig config = PreprocessConfig.imageNet()
 *         .withMaxPixels(40_000_000L)      // refuse larger images from their header
 *         .withMaxAspectRatio(100)         // refuse 1x30000 slivers from their header
 *         .withMaxJpegScans(100);          // refuse progressive-JPEG scan bombs from their markers
 * }</pre>
 * Every value is validated when set; a bad one throws
 * {@code IllegalArgumentException("Invalid value X for NAME: why")}.
 */
public final class PreprocessConfig {
    /** 40 megapixels: far above any camera photo, far below what exhausts a worker's memory. */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;
    /**
     * Long side over short side. Panoramas and banners stay well below 100:1 (a 360-degree panorama is about
     * 8:1, a 728x90 web banner 8:1); beyond that the centre crop shows a sliver stretched a hundredfold, which no
     * classifier answers meaningfully. Preprocessing cost no longer grows with the ratio (only the crop is
     * resampled), so this guards the meaning of results, not the worker's memory.
     */
    public static final double DEFAULT_MAX_ASPECT_RATIO = 100;
    /**
     * Scans (SOS markers) in one JPEG. Encoders write 1 scan for a baseline JPEG and 10 for a progressive colour
     * JPEG with the standard libjpeg script (6 for greyscale). libjpeg passes over the whole image for every scan,
     * and a scan of an all-zero band is 12-23 bytes, so 115 KB of input hold 5000 of them: measured with this
     * build of OpenCV on a 7000x5000 progressive JPEG, 5000 such extra scans added about 5.6 s of decoding (about
     * 1.1 ms per scan). 100 is 10x the standard script, bounds that extra work to about 0.1 s near the pixel limit,
     * and is the scan limit libjpeg-turbo's own fuzz targets use (its TurboJPEG API offers 500 as
     * {@code TJFLAG_LIMITSCANS}; OpenCV sets no limit at all).
     */
    public static final int DEFAULT_MAX_JPEG_SCANS = 100;

    private final int resizeShortSide;
    private final int cropSize;
    private final double scale;
    private final double[] mean;
    private final double[] std;
    private final boolean rgb;
    private final long maxPixels;
    private final double maxAspectRatio;
    private final int maxJpegScans;

    private PreprocessConfig(int resizeShortSide, int cropSize, double scale, double[] mean, double[] std,
                             boolean rgb, long maxPixels, double maxAspectRatio, int maxJpegScans) {
        check(resizeShortSide >= 1, "resizeShortSide", resizeShortSide, "must be positive");
        check(cropSize >= 1 && cropSize <= resizeShortSide, "cropSize", cropSize,
                "must be positive and at most resizeShortSide (" + resizeShortSide + ")");
        check(scale > 0 && Double.isFinite(scale), "scale", scale, "must be a positive number");
        check(mean.length == 3, "mean", Arrays.toString(mean), "needs 3 values");
        check(std.length == 3 && Arrays.stream(std).allMatch(s -> s > 0), "std", Arrays.toString(std),
                "needs 3 positive values");
        check(maxPixels >= 1, "maxPixels", maxPixels, "must be positive");
        check(maxAspectRatio >= 1 && Double.isFinite(maxAspectRatio), "maxAspectRatio", maxAspectRatio,
                "must be a finite number of at least 1 (long side / short side)");
        check(maxJpegScans >= 1, "maxJpegScans", maxJpegScans, "must be at least 1 (a JPEG has at least one scan)");
        this.resizeShortSide = resizeShortSide;
        this.cropSize = cropSize;
        this.scale = scale;
        this.mean = mean.clone();
        this.std = std.clone();
        this.rgb = rgb;
        this.maxPixels = maxPixels;
        this.maxAspectRatio = maxAspectRatio;
        this.maxJpegScans = maxJpegScans;
    }

    /** ImageNet: short side 256, crop 224, x/255, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), RGB. */
    public static PreprocessConfig imageNet() {
        return new PreprocessConfig(256, 224, 1.0 / 255.0, new double[] {0.485, 0.456, 0.406},
                new double[] {0.229, 0.224, 0.225}, true, DEFAULT_MAX_PIXELS, DEFAULT_MAX_ASPECT_RATIO,
                DEFAULT_MAX_JPEG_SCANS);
    }

    public PreprocessConfig withResize(int resizeShortSide, int cropSize) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels, maxAspectRatio,
                maxJpegScans);
    }

    public PreprocessConfig withNormalization(double scale, double[] mean, double[] std) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels, maxAspectRatio,
                maxJpegScans);
    }

    public PreprocessConfig withRgb(boolean rgb) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels, maxAspectRatio,
                maxJpegScans);
    }

    /** Images whose header gives more pixels are refused as {@link PreprocessStatus#TOO_LARGE} before decoding. */
    public PreprocessConfig withMaxPixels(long maxPixels) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels, maxAspectRatio,
                maxJpegScans);
    }

    /**
     * Images whose header gives a larger long-side/short-side ratio are refused as {@link PreprocessStatus#TOO_LARGE}
     * before decoding; see {@link #DEFAULT_MAX_ASPECT_RATIO}.
     */
    public PreprocessConfig withMaxAspectRatio(double maxAspectRatio) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels, maxAspectRatio,
                maxJpegScans);
    }

    /**
     * JPEGs with more scans are refused as {@link PreprocessStatus#UNDECODABLE} before decoding; see
     * {@link #DEFAULT_MAX_JPEG_SCANS}.
     */
    public PreprocessConfig withMaxJpegScans(int maxJpegScans) {
        return new PreprocessConfig(resizeShortSide, cropSize, scale, mean, std, rgb, maxPixels, maxAspectRatio,
                maxJpegScans);
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

    public double maxAspectRatio() {
        return maxAspectRatio;
    }

    public int maxJpegScans() {
        return maxJpegScans;
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
                + (rgb ? "RGB" : "BGR") + ", maxPixels=" + maxPixels + ", maxAspectRatio=" + maxAspectRatio
                + ", maxJpegScans=" + maxJpegScans + '}';
    }

    private static void check(boolean ok, String name, Object value, String why) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + value + " for " + name + ": " + why);
        }
    }
}
