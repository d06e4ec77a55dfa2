package io.inferencefleet.worker.preprocess;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads an encoded image's format and dimensions from its header, without decoding pixels, so that
 * oversized images are refused before OpenCV allocates them; checks that JPEG and PNG files end
 * where their format says they end (OpenCV decodes a truncated JPEG silently); and counts a JPEG's scans
 * (each one costs the decoder a pass over the whole image).
 */
final class ImageProbe {
    /** Formats OpenCV decodes for us and the JDK can probe. */
    enum Format { JPEG, PNG, BMP, TIFF }

    /**
     * What the header says. {@code scans} counts a JPEG's SOS markers (0 for other formats).
     */
    record Result(PreprocessStatus status, Format format, long width, long height, int scans, String detail) {
        long pixels() {
            return width * height;
        }

        /** Long side over short side. */
        double aspectRatio() {
            return (double) Math.max(width, height) / Math.min(width, height);
        }
    }

    private ImageProbe() {}

    static Result probe(byte[] bytes) {
        if (bytes.length == 0) {
            return failure(PreprocessStatus.EMPTY, null, "no bytes");
        }
        Format format = sniff(bytes);
        if (format == null) {
            return failure(PreprocessStatus.UNSUPPORTED_FORMAT, null,
                    "not a JPEG, PNG, BMP or TIFF image (first bytes " + hex(bytes, 8) + ")");
        }
        if (!endsCompletely(format, bytes)) {
            // Checked first: a file cut inside its header is truncated too, not merely unreadable.
            return failure(PreprocessStatus.TRUNCATED, format,
                    format + " ends after " + bytes.length + " bytes, before its end marker");
        }
        long width;
        long height;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return failure(PreprocessStatus.UNSUPPORTED_FORMAT, format, "no header reader for " + format);
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return failure(PreprocessStatus.UNDECODABLE, format, "unreadable " + format + " header: " + e.getMessage());
        }
        if (width <= 0 || height <= 0) {
            return failure(PreprocessStatus.UNDECODABLE, format, format + " header gives " + width + "x" + height);
        }
        int scans = format == Format.JPEG ? countJpegScans(bytes) : 0;
        return new Result(PreprocessStatus.OK, format, width, height, scans, null);
    }

    /**
     * Counts the SOS (start of scan) markers by walking the marker segments and skipping each scan's entropy-coded
     * data (which ends at the first 0xFF not followed by 0x00, a restart marker or more 0xFF fill). Linear in the
     * file size and allocation-free; a broken structure stops the count (the decoder then judges the file).
     */
    static int countJpegScans(byte[] b) {
        int scans = 0;
        int i = 2;  // after SOI
        while (i + 1 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) {
                return scans;
            }
            int marker = b[i + 1] & 0xFF;
            if (marker == 0xFF) {
                i++;  // fill byte before a marker
                continue;
            }
            if (marker == 0xD9) {
                return scans;  // EOI
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;  // TEM and RSTn stand alone, without a length
                continue;
            }
            if (i + 3 >= b.length) {
                return scans;
            }
            int length = ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
            if (length < 2) {
                return scans;
            }
            i += 2 + length;
            if (marker == 0xDA) {
                scans++;
                while (i + 1 < b.length) {
                    if ((b[i] & 0xFF) == 0xFF) {
                        int next = b[i + 1] & 0xFF;
                        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                            i += 2;  // a stuffed 0xFF data byte, or a restart marker inside the scan
                            continue;
                        }
                        if (next != 0xFF) {
                            break;  // the next marker segment
                        }
                    }
                    i++;
                }
            }
        }
        return scans;
    }

    private static Format sniff(byte[] b) {
        if (startsWith(b, 0xFF, 0xD8, 0xFF)) {
            return Format.JPEG;
        }
        if (startsWith(b, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return Format.PNG;
        }
        if (startsWith(b, 'B', 'M')) {
            return Format.BMP;
        }
        if (startsWith(b, 'I', 'I', 42, 0) || startsWith(b, 'M', 'M', 0, 42)) {
            return Format.TIFF;
        }
        return null;
    }

    /** JPEG must end with EOI (FF D9), PNG with an IEND chunk; trailing padding is tolerated. */
    private static boolean endsCompletely(Format format, byte[] b) {
        int end = b.length;
        while (end > 0 && (b[end - 1] == 0 || b[end - 1] == '\n' || b[end - 1] == '\r' || b[end - 1] == ' ')) {
            end--;
        }
        switch (format) {
            case JPEG:
                return end >= 2 && (b[end - 2] & 0xFF) == 0xFF && (b[end - 1] & 0xFF) == 0xD9;
            case PNG:
                // IEND chunk: length 0, type "IEND", 4-byte CRC.
                return end >= 12 && b[end - 8] == 'I' && b[end - 7] == 'E' && b[end - 6] == 'N' && b[end - 5] == 'D';
            default:
                return true;  // BMP/TIFF: the decoder checks sizes against the header itself
        }
    }

    private static boolean startsWith(byte[] b, int... prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static Result failure(PreprocessStatus status, Format format, String detail) {
        return new Result(status, format, 0, 0, 0, detail);
    }

    private static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, b.length); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }
}
