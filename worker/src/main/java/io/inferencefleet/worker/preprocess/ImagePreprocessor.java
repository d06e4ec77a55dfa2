package io.inferencefleet.worker.preprocess;

import java.nio.ByteBuffer;
import org.opencv.core.Core;
import org.opencv.core.CvException;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * Turns encoded image bytes into a model input written straight into the caller's memory (a
 * shared-memory tensor slot): decode (colour, grayscale, alpha, palette, 16-bit), resize the short
 * side (bilinear), centre-crop, scale and normalise per channel, planar float32 (CHW) in RGB order.
 * The cost after decoding is bounded by the crop, whatever the input's shape: when the resized image would hold
 * more than {@link #FULL_RESIZE_MAX_CROPS} crops' worth of pixels, only the crop is resampled ({@link CropResampler},
 * bit-exact with resizing everything and cropping), so a 1x30000 PNG no longer builds a 256 x 7,680,000
 * intermediate; below that, OpenCV resizes the whole (small) image, which its SIMD code does faster.
 *
 * <pre>{@code
 * try (ImagePreprocessor pre = new ImagePreprocessor(PreprocessConfig.imageNet())) {
 *     PreprocessStatus status = pre.preprocess(jpegBytes, slot);   // slot: direct, >= tensorBytes()
 *     if (status != PreprocessStatus.OK) { reject(status.code(), pre.lastDetail()); }
 * }
 * }</pre>
 *
 * <p>Refused from the header, before anything is decoded: more pixels than {@link PreprocessConfig#maxPixels()} or
 * a longer-than-{@link PreprocessConfig#maxAspectRatio()} shape ({@link PreprocessStatus#TOO_LARGE}), more JPEG
 * scans than {@link PreprocessConfig#maxJpegScans()} ({@link PreprocessStatus#UNDECODABLE}), GIF and floating-point
 * TIFF ({@link PreprocessStatus#UNSUPPORTED_FORMAT}).
 *
 * <p>Not thread-safe: one per decoder thread (it reuses OpenCV buffers between images). The target
 * is written from its position, {@link PreprocessConfig#tensorBytes()} bytes, and holds the model
 * input only when the result is {@link PreprocessStatus#OK}; otherwise its contents are
 * unspecified.
 */
public final class ImagePreprocessor implements AutoCloseable {
    /**
     * Up to this many crops' worth of resized pixels (4 x 224 x 224: every photo up to about 3.4:1), OpenCV's SIMD
     * resize of the whole image costs less than the crop-only resampler (measured for a 640x480 JPEG: 0.2 ms vs
     * 0.7 ms) and gives the same 8-bit pixels; beyond it the resampler's cost stays that of one crop. 16-bit images
     * always take the resampler, whose arithmetic is OpenCV's generic one (see {@link CropResampler}).
     */
    static final int FULL_RESIZE_MAX_CROPS = 4;

    private final PreprocessConfig config;
    private final long fullResizeMaxPixels;
    private final CropResampler resampler;
    private final Mat resized;
    private final Mat cropped;
    private final Mat scaled;
    private final int planeBytes;
    private String lastDetail;
    private long lastWidth;
    private long lastHeight;
    private boolean closed;

    public ImagePreprocessor(PreprocessConfig config) {
        this(config, (long) FULL_RESIZE_MAX_CROPS * config.cropSize() * config.cropSize());
    }

    /** @param fullResizeMaxPixels up to this many resized pixels OpenCV resizes the whole image (tests: 0, never) */
    ImagePreprocessor(PreprocessConfig config, long fullResizeMaxPixels) {
        OpenCv.ensureLoaded();
        this.config = config;
        this.fullResizeMaxPixels = fullResizeMaxPixels;
        this.resampler = new CropResampler(config.cropSize());
        this.resized = new Mat();
        this.cropped = new Mat();
        this.scaled = new Mat();
        this.planeBytes = config.cropSize() * config.cropSize() * Float.BYTES;
    }

    public PreprocessConfig config() {
        return config;
    }

    /**
     * Preprocesses {@code encoded} into {@code target} (direct, native byte order, at least
     * {@link PreprocessConfig#tensorBytes()} bytes remaining from its position).
     */
    public PreprocessStatus preprocess(byte[] encoded, ByteBuffer target) {
        if (closed) {
            throw new IllegalStateException("ImagePreprocessor is closed");
        }
        if (!target.isDirect() || target.remaining() < config.tensorBytes()) {
            throw new IllegalArgumentException("target must be a direct buffer with " + config.tensorBytes()
                    + " bytes remaining, got " + target);
        }
        ImageProbe.Result probe = ImageProbe.probe(encoded);
        lastWidth = probe.width();
        lastHeight = probe.height();
        if (probe.status() != PreprocessStatus.OK) {
            return fail(probe.status(), probe.detail());
        }
        String size = probe.format() + " of " + probe.width() + "x" + probe.height();
        if (probe.pixels() > config.maxPixels()) {
            return fail(PreprocessStatus.TOO_LARGE, size + " = " + probe.pixels() + " pixels exceeds the limit of "
                    + config.maxPixels() + " (maxPixels)");
        }
        if (probe.aspectRatio() > config.maxAspectRatio()) {
            return fail(PreprocessStatus.TOO_LARGE, size + " has an aspect ratio of " + number(probe.aspectRatio())
                    + " (long side / short side), above the limit of " + number(config.maxAspectRatio())
                    + " (maxAspectRatio)");
        }
        if (probe.scans() > config.maxJpegScans()) {
            return fail(PreprocessStatus.UNDECODABLE, size + " has " + probe.scans()
                    + " scans, above the limit of " + config.maxJpegScans()
                    + " (maxJpegScans; every scan costs the decoder a pass over the whole image)");
        }
        MatOfByte bytes = new MatOfByte(encoded);
        Mat decoded = null;
        try {
            try {
                decoded = Imgcodecs.imdecode(bytes, Imgcodecs.IMREAD_COLOR | Imgcodecs.IMREAD_ANYDEPTH);
            } catch (CvException e) {
                // Bad bytes are an outcome on this path, not an error of the worker (only imdecode is caught:
                // an OpenCV failure after decoding would be our bug and must stay visible as one).
                return fail(PreprocessStatus.UNDECODABLE, "OpenCV failed on the " + probe.format() + " image of "
                        + encoded.length + " bytes: " + e.getMessage());
            }
            if (decoded.empty()) {
                return fail(PreprocessStatus.UNDECODABLE, "OpenCV could not decode the " + probe.format()
                        + " image of " + encoded.length + " bytes");
            }
            double scale;
            switch (decoded.depth()) {
                case CvType.CV_8U:
                    scale = config.scale();
                    break;
                case CvType.CV_16U:
                    scale = config.scale() / 257.0;  // 65535 maps to 255
                    break;
                default:
                    return fail(PreprocessStatus.UNSUPPORTED_FORMAT, probe.format() + " decodes to "
                            + depthName(decoded.depth()) + " pixels (" + CvType.typeToString(decoded.type())
                            + "); only 8- and 16-bit integer images are supported");
            }
            writeChw(decoded, scale, target);
            lastDetail = null;
            return PreprocessStatus.OK;
        } finally {
            // Also when imdecode throws: the native copy of the bytes is as large as the input.
            if (decoded != null) {
                decoded.release();
            }
            bytes.release();
        }
    }

    /** Why the last call did not return {@link PreprocessStatus#OK}; null after success. */
    public String lastDetail() {
        return lastDetail;
    }

    /** Width of the last image as its header gave it (0 if unknown). */
    public long lastWidth() {
        return lastWidth;
    }

    public long lastHeight() {
        return lastHeight;
    }

    private void writeChw(Mat bgr, double scale, ByteBuffer target) {
        int crop = config.cropSize();
        Geometry g = Geometry.of(bgr.cols(), bgr.rows(), config.resizeShortSide(), crop);
        if (bgr.depth() == CvType.CV_8U && g.width() * g.height() <= fullResizeMaxPixels) {
            Imgproc.resize(bgr, resized, new Size(g.width(), g.height()), 0, 0, Imgproc.INTER_LINEAR);
            Mat window = resized.submat(new Rect((int) g.cropX(), (int) g.cropY(), crop, crop));
            try {
                window.convertTo(scaled, CvType.CV_32F, scale);
            } finally {
                window.release();
            }
        } else {
            resampler.resample(bgr, g.width(), g.height(), g.cropX(), g.cropY(), cropped);
            cropped.convertTo(scaled, CvType.CV_32F, scale);
        }
        int base = target.position();
        for (int c = 0; c < 3; c++) {
            // A Mat over the caller's memory: OpenCV writes the plane in place, no copy afterwards.
            Mat plane = new Mat(crop, crop, CvType.CV_32FC1, target.slice(base + c * planeBytes, planeBytes));
            try {
                Core.extractChannel(scaled, plane, config.rgb() ? 2 - c : c);
                plane.convertTo(plane, -1, 1.0 / config.std(c), -config.mean(c) / config.std(c));
            } finally {
                plane.release();
            }
        }
    }

    /**
     * Where the crop lies in the resized image, computed in one place, as PaddleClas computes it: the resized size
     * is {@code int(round(side * resize_short / short_side))}, the crop starts at {@code (resized - crop) // 2}.
     * Python's {@code round} takes halves to even, hence {@link Math#rint}: {@link Math#round} (halves up) made a
     * 601x512 image 301 pixels wide where PaddleClas makes it 300, and every pixel of the crop different.
     * {@code long}: the resized image of a very long picture need not fit in an {@code int}, it is never allocated.
     */
    record Geometry(long width, long height, long cropX, long cropY) {
        static Geometry of(int cols, int rows, int shortSide, int crop) {
            double ratio = (double) shortSide / Math.min(cols, rows);
            long width = (long) Math.rint(cols * ratio);
            long height = (long) Math.rint(rows * ratio);
            return new Geometry(width, height, (width - crop) / 2, (height - crop) / 2);
        }
    }

    private static String depthName(int depth) {
        switch (depth) {
            case CvType.CV_8S:
                return "8-bit signed";
            case CvType.CV_16S:
                return "16-bit signed";
            case CvType.CV_32S:
                return "32-bit integer";
            case CvType.CV_16F:
                return "16-bit float";
            case CvType.CV_32F:
                return "32-bit float";
            case CvType.CV_64F:
                return "64-bit float";
            default:
                return "depth " + depth;
        }
    }

    /** 30000 rather than 30000.0; two decimals otherwise. */
    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(java.util.Locale.ROOT, "%.2f", value);
    }

    private PreprocessStatus fail(PreprocessStatus status, String detail) {
        lastDetail = detail;
        return status;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            resized.release();
            cropped.release();
            scaled.release();
        }
    }
}
