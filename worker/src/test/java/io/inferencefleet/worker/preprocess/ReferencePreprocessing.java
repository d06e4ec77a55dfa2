package io.inferencefleet.worker.preprocess;

import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.Rect;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * The preprocessing as {@link ImagePreprocessor} did it before issue 11, kept as the reference the crop-only
 * resampling must equal: decode, resize the <em>whole</em> image so its short side is {@code resizeShortSide}
 * (OpenCV INTER_LINEAR), crop the centre, scale, normalise, CHW. Its cost grows with the resized image (a 1x30000
 * PNG makes a 256 x 7,680,000 intermediate), so tests feed it only ordinary shapes. It keeps the old rounding of
 * the resized size ({@link Math#round}, halves up), which parts from PaddleClas (and the new code) only when
 * {@code side * resizeShortSide / shortSide} is exactly k + 1/2 with k even, e.g. 601x512; {@link #resized} takes
 * the size explicitly for those.
 *
 * <pre>{@code
 * float[] expected = ReferencePreprocessing.preprocess(pngBytes, PreprocessConfig.imageNet());  // null: undecodable
 * }</pre>
 */
final class ReferencePreprocessing {
    private ReferencePreprocessing() {}

    /** The CHW tensor, or null when OpenCV cannot decode the bytes or they are not 8 or 16 bit. */
    static float[] preprocess(byte[] encoded, PreprocessConfig config) {
        MatOfByte bytes = new MatOfByte(encoded);
        Mat decoded = Imgcodecs.imdecode(bytes, Imgcodecs.IMREAD_COLOR | Imgcodecs.IMREAD_ANYDEPTH);
        try {
            return decoded.empty() ? null : preprocess(decoded, config);
        } finally {
            decoded.release();
            bytes.release();
        }
    }

    static float[] preprocess(Mat bgr, PreprocessConfig config) {
        double scale;
        if (bgr.depth() == CvType.CV_8U) {
            scale = config.scale();
        } else if (bgr.depth() == CvType.CV_16U) {
            scale = config.scale() / 257.0;
        } else {
            return null;
        }
        double ratio = (double) config.resizeShortSide() / Math.min(bgr.cols(), bgr.rows());
        int width = (int) Math.round(bgr.cols() * ratio);
        int height = (int) Math.round(bgr.rows() * ratio);
        return resized(bgr, config, width, height, scale);
    }

    /** Resize to exactly {@code width x height}, then crop, scale, normalise, CHW. */
    static float[] resized(Mat bgr, PreprocessConfig config, int width, int height, double scale) {
        int crop = config.cropSize();
        Mat resized = new Mat();
        Mat scaled = new Mat();
        Mat plane = new Mat();
        Mat cropped = null;
        try {
            Imgproc.resize(bgr, resized, new Size(width, height), 0, 0, Imgproc.INTER_LINEAR);
            cropped = resized.submat(new Rect((width - crop) / 2, (height - crop) / 2, crop, crop));
            cropped.convertTo(scaled, CvType.CV_32F, scale);
            float[] chw = new float[3 * crop * crop];
            float[] values = new float[crop * crop];
            for (int c = 0; c < 3; c++) {
                Core.extractChannel(scaled, plane, config.rgb() ? 2 - c : c);
                plane.convertTo(plane, -1, 1.0 / config.std(c), -config.mean(c) / config.std(c));
                plane.get(0, 0, values);
                System.arraycopy(values, 0, chw, c * values.length, values.length);
            }
            return chw;
        } finally {
            if (cropped != null) {
                cropped.release();
            }
            plane.release();
            scaled.release();
            resized.release();
        }
    }
}
