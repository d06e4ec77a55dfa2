package io.inferencefleet.worker.preprocess;

/**
 * Outcome of preprocessing one image. Bad input is a normal outcome on this path, reported as a
 * status with a stable {@link #code()} (used in error results), not as an exception.
 */
public enum PreprocessStatus {
    OK("ok"),
    /** No bytes at all. */
    EMPTY("empty_image"),
    /** Not a format we can probe and decode into 8 or 16 bits (e.g. GIF, animated WebP, float TIFF, text). */
    UNSUPPORTED_FORMAT("unsupported_image_format"),
    /** A known format whose bytes do not decode. */
    UNDECODABLE("undecodable_image"),
    /** The file ends before the image does (OpenCV would silently decode the part it has). */
    TRUNCATED("truncated_image"),
    /** More pixels, or a longer shape, than the configured limits; refused from the header, before decoding. */
    TOO_LARGE("image_too_large");

    private final String code;

    PreprocessStatus(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
